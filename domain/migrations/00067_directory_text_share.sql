-- +goose Up
-- directory_text_share estimates the share of the directory's search rows a
-- search text matches, from the statistics ANALYZE keeps on the document
-- column (its most common lexemes and their frequencies; a lexeme not among
-- them is rare). A text matches at most as many rows as its rarest required
-- lexeme, so the estimate is the smallest frequency of the lexemes the
-- query needs (negated ones do not narrow). NULL when it cannot tell: no
-- statistics yet, or no required lexeme. The search uses it to decide
-- whether a search around a point reads the text index at all (issue #12):
-- "food" in a 5 km circle is the circle's few thousand places tested for
-- the word, not the word's hundreds of thousands of places intersected with
-- the circle.
-- +goose StatementBegin
CREATE FUNCTION directory_text_share(q tsquery) RETURNS float8
LANGUAGE sql STABLE AS $$
    SELECT min(coalesce(s.f[array_position(s.e, w.lexeme)], 0))
    FROM (SELECT most_common_elems::text::text[] AS e, most_common_elem_freqs AS f
          FROM pg_stats
          WHERE schemaname = current_schema() AND tablename = 'service_search' AND attname = 'document'
            AND most_common_elems IS NOT NULL) s,
         (SELECT replace(m[2], '''''', '''') AS lexeme
          FROM regexp_matches(q::text, '(!?)''((?:[^'']|'''')*)''', 'g') AS m
          WHERE m[1] = '') w
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION directory_text_share(tsquery);
