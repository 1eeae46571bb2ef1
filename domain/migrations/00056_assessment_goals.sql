-- +goose Up
-- A goal the client adopted from an assessment's suggestions: which
-- assessment, domain and template it came from. The goal itself is an
-- ordinary goal (created through the goal rules); this row only links it.
CREATE TABLE assessment_goals (
    client_id     uuid        NOT NULL,
    goal_id       uuid        NOT NULL,
    assessment_id uuid        NOT NULL,
    domain        text        NOT NULL,
    template_id   text        NOT NULL CHECK (char_length(template_id) BETWEEN 1 AND 64),
    adopted_by    uuid        NOT NULL REFERENCES people (id),
    adopted_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (client_id, goal_id),
    -- A template is adopted once per assessment (a second adoption is 409).
    CONSTRAINT assessment_goals_template_key UNIQUE (client_id, assessment_id, template_id),
    FOREIGN KEY (client_id, goal_id) REFERENCES goals (client_id, id) ON DELETE CASCADE,
    FOREIGN KEY (client_id, assessment_id, domain) REFERENCES assessment_ratings (client_id, assessment_id, domain) ON DELETE CASCADE
);
CREATE INDEX assessment_goals_assessment_idx ON assessment_goals (client_id, assessment_id);

-- +goose Down
DROP TABLE assessment_goals;
