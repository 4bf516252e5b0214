-- +goose Up
-- A campaign's own mail subjects and introductions, one row per language
-- (issue 17): a German participant reads the German text, and a language
-- without a row (or with an empty field) gets the built-in wording in that
-- language. The single texts of 00004 went to everyone whatever their
-- language; they are kept as each language's text, so nothing an admin
-- wrote is lost or changes on upgrade. Keep in step with
-- postgres/00023_mail_texts.sql.
CREATE TABLE campaign_mail_texts (
    campaign_id      INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    locale           TEXT    NOT NULL CHECK (locale IN ('en', 'de', 'fr')),
    invite_subject   TEXT    NOT NULL DEFAULT '',
    invite_intro     TEXT    NOT NULL DEFAULT '',
    reminder_subject TEXT    NOT NULL DEFAULT '',
    reminder_intro   TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (campaign_id, locale)
);
INSERT INTO campaign_mail_texts (campaign_id, locale, invite_subject, invite_intro, reminder_subject, reminder_intro)
SELECT c.id, l.locale, c.invite_subject, c.invite_intro, c.reminder_subject, c.reminder_intro
FROM campaigns c CROSS JOIN (SELECT 'en' AS locale UNION ALL SELECT 'de' UNION ALL SELECT 'fr') l
WHERE c.invite_subject <> '' OR c.invite_intro <> '' OR c.reminder_subject <> '' OR c.reminder_intro <> '';
ALTER TABLE campaigns DROP COLUMN invite_subject;
ALTER TABLE campaigns DROP COLUMN invite_intro;
ALTER TABLE campaigns DROP COLUMN reminder_subject;
ALTER TABLE campaigns DROP COLUMN reminder_intro;

-- +goose Down
-- The older code has one text for every language: the campaign's English
-- one goes back.
ALTER TABLE campaigns ADD COLUMN invite_subject   TEXT NOT NULL DEFAULT '';
ALTER TABLE campaigns ADD COLUMN invite_intro     TEXT NOT NULL DEFAULT '';
ALTER TABLE campaigns ADD COLUMN reminder_subject TEXT NOT NULL DEFAULT '';
ALTER TABLE campaigns ADD COLUMN reminder_intro   TEXT NOT NULL DEFAULT '';
UPDATE campaigns SET
    invite_subject   = COALESCE((SELECT t.invite_subject   FROM campaign_mail_texts t WHERE t.campaign_id = campaigns.id AND t.locale = 'en'), ''),
    invite_intro     = COALESCE((SELECT t.invite_intro     FROM campaign_mail_texts t WHERE t.campaign_id = campaigns.id AND t.locale = 'en'), ''),
    reminder_subject = COALESCE((SELECT t.reminder_subject FROM campaign_mail_texts t WHERE t.campaign_id = campaigns.id AND t.locale = 'en'), ''),
    reminder_intro   = COALESCE((SELECT t.reminder_intro   FROM campaign_mail_texts t WHERE t.campaign_id = campaigns.id AND t.locale = 'en'), '');
DROP TABLE campaign_mail_texts;
