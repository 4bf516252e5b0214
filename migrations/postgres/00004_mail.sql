-- +goose Up
-- Mail: per-campaign texts and reminder schedule, and what the outbox worker
-- needs beyond 00001. Keep in step with sqlite/00004_mail.sql.

-- Empty subject or intro means the localised default. reminder_days lists the
-- days after the invitation was delivered on which a reminder goes out, e.g. "7,12".
ALTER TABLE campaigns ADD COLUMN invite_subject   TEXT NOT NULL DEFAULT '';
ALTER TABLE campaigns ADD COLUMN invite_intro     TEXT NOT NULL DEFAULT '';
ALTER TABLE campaigns ADD COLUMN reminder_subject TEXT NOT NULL DEFAULT '';
ALTER TABLE campaigns ADD COLUMN reminder_intro   TEXT NOT NULL DEFAULT '';
ALTER TABLE campaigns ADD COLUMN reminder_days    TEXT NOT NULL DEFAULT '';

-- step: the number of a scheduled reminder (1 for the first entry of
-- reminder_days, …); 0 for invitations and reminders queued by hand.
-- failed_at: the worker gave up on the job after its last attempt (bounced).
-- Jobs that became pointless (answered, opted out, closed) are deleted instead.
ALTER TABLE outbox ADD COLUMN step      INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN failed_at TIMESTAMPTZ;

-- One invitation mail per invitation, ever; at most one reminder waiting per
-- invitation; each scheduled reminder step once per invitation. Queueing
-- relies on these (INSERT … ON CONFLICT DO NOTHING), so concurrent requests
-- cannot queue twice.
CREATE UNIQUE INDEX outbox_one_invite ON outbox(invitation_id) WHERE kind = 'invite';
CREATE UNIQUE INDEX outbox_one_waiting_reminder ON outbox(invitation_id)
    WHERE kind = 'reminder' AND sent_at IS NULL AND failed_at IS NULL;
CREATE UNIQUE INDEX outbox_one_reminder_step ON outbox(invitation_id, step) WHERE kind = 'reminder' AND step > 0;
CREATE INDEX outbox_invitation ON outbox(invitation_id, kind);

-- +goose Down
DROP INDEX outbox_invitation;
DROP INDEX outbox_one_reminder_step;
DROP INDEX outbox_one_waiting_reminder;
DROP INDEX outbox_one_invite;
ALTER TABLE outbox DROP COLUMN failed_at;
ALTER TABLE outbox DROP COLUMN step;
ALTER TABLE campaigns DROP COLUMN reminder_days;
ALTER TABLE campaigns DROP COLUMN reminder_intro;
ALTER TABLE campaigns DROP COLUMN reminder_subject;
ALTER TABLE campaigns DROP COLUMN invite_intro;
ALTER TABLE campaigns DROP COLUMN invite_subject;
