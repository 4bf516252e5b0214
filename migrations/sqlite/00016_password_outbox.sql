-- +goose Up
-- Password mails go through the outbox like every other mail (kind
-- 'password_reset', no invitation): the "forgot password" form only queues,
-- so its answer cannot tell whether the address has an account. At most one
-- waiting per address: asking again while one waits queues nothing.
CREATE UNIQUE INDEX outbox_one_waiting_password ON outbox(recipient)
    WHERE kind = 'password_reset' AND sent_at IS NULL AND failed_at IS NULL;

-- +goose Down
DROP INDEX outbox_one_waiting_password;
