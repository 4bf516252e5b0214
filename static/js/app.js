// Tiltline scripts arrive with the respondent flow.
