-- +goose Up
-- tiltline_patch_answers applies autosaved answers to a draft's packed
-- answers inside the UPDATE itself, so that a batch of autosaves is one
-- statement and one round trip, with no read first and no explicit
-- transaction (survey/saver.go). The patch is a list of 3-byte entries:
-- slot (2 bytes, big-endian) and value, applied in order.
-- SQLite has no such function: its saver reads and writes in one local
-- transaction (sqlite/00022_patch_answers.sql is empty).
-- +goose StatementBegin
CREATE FUNCTION tiltline_patch_answers(answers bytea, patch bytea) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
BEGIN
	FOR i IN 0 .. length(patch) / 3 - 1 LOOP
		answers := set_byte(answers, get_byte(patch, 3 * i) * 256 + get_byte(patch, 3 * i + 1), get_byte(patch, 3 * i + 2));
	END LOOP;
	RETURN answers;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION tiltline_patch_answers(bytea, bytea);
