-- The peelkit warehouse schema. docs/warehouse.md describes every table and column;
-- tests/test_warehouse_docs.py keeps the two in step.

CREATE TABLE IF NOT EXISTS peelkit_meta (
    key VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);

-- Reference data (refreshed from the package on every open) ---------------------------------
CREATE TABLE IF NOT EXISTS forces (
    code VARCHAR PRIMARY KEY,
    name VARCHAR NOT NULL,
    ons_name VARCHAR,
    slug VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    country VARCHAR
);
CREATE TABLE IF NOT EXISTS force_aliases (
    alias VARCHAR PRIMARY KEY,
    code VARCHAR NOT NULL,
    seen_in VARCHAR
);
CREATE TABLE IF NOT EXISTS outcome_types (
    outcome_type TINYINT PRIMARY KEY,
    outcome_description VARCHAR NOT NULL,
    figure_4_group VARCHAR NOT NULL,
    figure_4_order TINYINT,
    introduced DATE NOT NULL
);
CREATE TABLE IF NOT EXISTS offence_classification (
    offence_code VARCHAR PRIMARY KEY,
    offence_description VARCHAR NOT NULL,
    offence_group VARCHAR NOT NULL,
    offence_subgroup VARCHAR NOT NULL,
    crime_category VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS data_return_items (
    item VARCHAR PRIMARY KEY,
    description VARCHAR NOT NULL,
    unit VARCHAR NOT NULL,
    period_kind VARCHAR NOT NULL
);

-- The load ledger ---------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS loads (
    load_id INTEGER PRIMARY KEY,
    path VARCHAR NOT NULL,
    member VARCHAR,
    sha256 VARCHAR NOT NULL UNIQUE,
    kind VARCHAR NOT NULL,
    bytes BIGINT NOT NULL,
    rows_read BIGINT NOT NULL,
    rows_loaded BIGINT NOT NULL,
    rows_rejected BIGINT NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ NOT NULL,
    peelkit_version VARCHAR NOT NULL,
    label VARCHAR,
    damage VARCHAR
);
CREATE TABLE IF NOT EXISTS rejected_rows (
    load_id INTEGER NOT NULL,
    line BIGINT,
    field VARCHAR,
    reason VARCHAR NOT NULL,
    raw VARCHAR,
    force_code VARCHAR,
    period_start DATE
);
CREATE TABLE IF NOT EXISTS load_periods (
    load_id INTEGER NOT NULL,
    source VARCHAR NOT NULL,
    force_code VARCHAR NOT NULL,
    period VARCHAR NOT NULL,
    period_start DATE NOT NULL,
    period_kind VARCHAR NOT NULL,
    rows BIGINT NOT NULL,
    asb_rows BIGINT,
    note VARCHAR,
    superseded_by INTEGER
);
-- What the plausibility rules (src/peelkit/plausibility.toml) found in each load: the data are
-- used as loaded; the findings travel with them.
CREATE TABLE IF NOT EXISTS findings (
    load_id INTEGER NOT NULL,
    rule VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    force_code VARCHAR NOT NULL,
    period VARCHAR NOT NULL,
    period_start DATE NOT NULL,
    rows BIGINT NOT NULL,
    other_load_id INTEGER,
    detail VARCHAR NOT NULL
);

-- Facts ---------------------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS police_uk_street (
    crime_id VARCHAR,
    month DATE NOT NULL,
    reported_by_code VARCHAR NOT NULL,
    force_code VARCHAR NOT NULL,
    longitude DOUBLE,
    latitude DOUBLE,
    location VARCHAR,
    lsoa_code VARCHAR,
    lsoa_name VARCHAR,
    crime_type VARCHAR NOT NULL,
    last_outcome_category VARCHAR,
    context VARCHAR,
    load_id INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS police_uk_outcomes (
    crime_id VARCHAR,
    month DATE NOT NULL,
    reported_by_code VARCHAR NOT NULL,
    force_code VARCHAR NOT NULL,
    longitude DOUBLE,
    latitude DOUBLE,
    location VARCHAR,
    lsoa_code VARCHAR,
    lsoa_name VARCHAR,
    outcome_type VARCHAR NOT NULL,
    load_id INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS police_uk_stop_search (
    force_code VARCHAR NOT NULL,
    month DATE NOT NULL,
    type VARCHAR NOT NULL,
    date TIMESTAMPTZ NOT NULL,
    part_of_a_policing_operation BOOLEAN,
    policing_operation VARCHAR,
    latitude DOUBLE,
    longitude DOUBLE,
    gender VARCHAR,
    age_range VARCHAR,
    self_defined_ethnicity VARCHAR,
    officer_defined_ethnicity VARCHAR,
    legislation VARCHAR,
    object_of_search VARCHAR,
    outcome VARCHAR,
    outcome_linked_to_object_of_search BOOLEAN,
    removal_of_more_than_just_outer_clothing BOOLEAN,
    load_id INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS recorded_crime (
    financial_year VARCHAR NOT NULL,
    financial_quarter TINYINT NOT NULL,
    quarter_start DATE NOT NULL,
    force_code VARCHAR NOT NULL,
    offence_code VARCHAR NOT NULL,
    offences BIGINT NOT NULL,
    source_rows INTEGER NOT NULL,
    load_id INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS crime_outcomes (
    financial_year VARCHAR NOT NULL,
    financial_quarter TINYINT NOT NULL,
    quarter_start DATE NOT NULL,
    force_code VARCHAR NOT NULL,
    offence_code VARCHAR NOT NULL,
    outcome_type TINYINT NOT NULL,
    outcomes_for_offences_recorded_in_quarter BIGINT,
    outcomes_recorded_in_quarter BIGINT,
    source_rows INTEGER NOT NULL,
    load_id INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS population (
    force_code VARCHAR NOT NULL,
    year SMALLINT NOT NULL,
    population BIGINT NOT NULL,
    households BIGINT,
    basis VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    load_id INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS data_returns (
    force_code VARCHAR NOT NULL,
    item VARCHAR NOT NULL,
    qualifier VARCHAR,
    period_start DATE,
    period_end DATE NOT NULL,
    status VARCHAR NOT NULL,
    value DOUBLE,
    unit VARCHAR NOT NULL,
    note VARCHAR,
    load_id INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS lad_csp_pfa (
    lad_code VARCHAR NOT NULL,
    lad_name VARCHAR NOT NULL,
    csp_code VARCHAR NOT NULL,
    csp_name VARCHAR NOT NULL,
    pfa_code VARCHAR NOT NULL,
    pfa_name VARCHAR NOT NULL,
    fid INTEGER,
    year SMALLINT NOT NULL,
    load_id INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS lad_population (
    lad_code VARCHAR NOT NULL,
    lad_name VARCHAR NOT NULL,
    year SMALLINT NOT NULL,
    population BIGINT NOT NULL,
    line BIGINT NOT NULL,
    load_id INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS workforce (
    force_code VARCHAR NOT NULL,
    worker_type VARCHAR NOT NULL,
    unit VARCHAR NOT NULL,
    as_at DATE NOT NULL,
    value DOUBLE NOT NULL,
    load_id INTEGER NOT NULL
);

-- Coverage: per force x period x source, present / partial / absent with the reason --------
CREATE OR REPLACE VIEW coverage AS
WITH current_periods AS (
    -- republished data replaces, never adds: a force-period's superseded loads are left out
    SELECT * FROM load_periods WHERE superseded_by IS NULL
),
period_rejects AS (
    -- a rejected row counts against the force-period it belongs to; one whose force or period
    -- could not be told counts against every force or period of its file
    SELECT p.load_id, p.source, p.force_code, p.period_start, p.period_kind,
           count(DISTINCT r.line) AS rejected
    FROM current_periods AS p
    JOIN rejected_rows AS r
      ON r.load_id = p.load_id
     AND (r.force_code IS NULL OR r.force_code = p.force_code)
     AND (r.period_start IS NULL OR r.period_start = p.period_start)
    GROUP BY ALL
),
lp AS (
    SELECT p.source, p.force_code, p.period, p.period_start, p.period_kind,
           sum(p.rows) AS rows, sum(p.asb_rows) AS asb_rows,
           -- list_distinct over list: the same values as DISTINCT aggregates, in a fifth less
           -- time (coverage runs at every start of the coverage command), and in a fixed order
           array_to_string(list_sort(list_distinct(list(p.note))), '; ') AS notes,
           list_sort(list_distinct(list(p.load_id))) AS load_ids,
           array_to_string(list_sort(list_distinct(list(l.damage))), '; ') AS damage,
           coalesce(sum(r.rejected), 0) AS rejected
    FROM current_periods AS p
    JOIN loads AS l USING (load_id)
    LEFT JOIN period_rejects AS r USING (load_id, source, force_code, period_start, period_kind)
    GROUP BY ALL
),
families AS (
    -- Sources published together share their months: a police.uk archive month holds street,
    -- outcomes and stop-and-search files, so a month missing from one kind is a gap in it.
    SELECT DISTINCT source, period_kind,
           CASE WHEN source LIKE 'police_uk_%' THEN 'police.uk' ELSE source END AS family
    FROM lp WHERE period_kind IN ('month', 'quarter', 'year')
),
ranges AS (
    SELECT family, period_kind, min(period_start) AS lo, max(period_start) AS hi
    FROM lp JOIN families USING (source, period_kind)
    GROUP BY ALL
),
filled AS (
    SELECT f.source, CAST(t.d AS DATE) AS period_start, f.period_kind
    FROM families AS f
    JOIN ranges AS r USING (family, period_kind),
         LATERAL generate_series(r.lo, r.hi,
             CASE f.period_kind WHEN 'month' THEN INTERVAL 1 MONTH
                                WHEN 'quarter' THEN INTERVAL 3 MONTH
                                ELSE INTERVAL 1 YEAR END) AS t(d)
),
source_periods AS (
    SELECT source, period_start, period_kind,
           CASE period_kind
               WHEN 'month' THEN strftime(period_start, '%Y-%m')
               WHEN 'quarter' THEN
                   CAST(year(period_start - INTERVAL 3 MONTH) AS VARCHAR) || '/'
                   || right(CAST(year(period_start - INTERVAL 3 MONTH) + 1 AS VARCHAR), 2)
                   || ' Q' || CAST(((month(period_start) + 8) % 12) // 3 + 1 AS VARCHAR)
               ELSE 'mid-' || CAST(year(period_start) AS VARCHAR)
           END AS period
    FROM filled
    UNION
    SELECT DISTINCT source, period_start, period_kind, period
    FROM lp WHERE period_kind NOT IN ('month', 'quarter', 'year')
),
universe AS (
    SELECT sp.source, sp.period, sp.period_start, sp.period_kind, f.code AS force_code
    FROM source_periods AS sp CROSS JOIN forces AS f
    WHERE f.kind = 'territorial'
    UNION
    SELECT DISTINCT source, period, period_start, period_kind, force_code FROM lp
),
forces_with_asb AS (
    SELECT force_code FROM lp WHERE source = 'police_uk_street'
    GROUP BY force_code HAVING sum(asb_rows) > 0
)
SELECT
    u.source,
    u.force_code,
    f.name AS force_name,
    u.period,
    u.period_start,
    u.period_kind,
    CASE
        WHEN lp.force_code IS NULL THEN 'absent'
        WHEN lp.notes = 'could not supply' THEN 'absent'
        WHEN lp.damage <> '' THEN 'partial'
        WHEN lp.rejected > 0 THEN 'partial'
        WHEN lp.rows = 0 THEN 'partial'
        WHEN u.source = 'police_uk_street' AND lp.asb_rows = 0
             AND u.force_code IN (SELECT force_code FROM forces_with_asb) THEN 'partial'
        ELSE 'present'
    END AS status,
    CASE
        WHEN lp.force_code IS NULL THEN 'nothing loaded for this force and period'
        WHEN lp.notes = 'could not supply' THEN 'the force could not supply this item'
        WHEN lp.damage <> '' THEN 'file damaged: ' || lp.damage
        WHEN lp.rejected > 0 THEN CAST(lp.rejected AS VARCHAR)
             || CASE WHEN lp.rejected = 1 THEN ' row' ELSE ' rows' END
             || ' rejected (peelkit query "SELECT * FROM rejected_rows WHERE load_id IN ('
             || array_to_string(lp.load_ids, ', ') || ')")'
        WHEN lp.rows = 0 THEN 'the file has a header but no data rows'
        WHEN u.source = 'police_uk_street' AND lp.asb_rows = 0
             AND u.force_code IN (SELECT force_code FROM forces_with_asb)
            THEN 'no anti-social behaviour rows, although other months of this force have them'
    END AS reason,
    CAST(coalesce(lp.rows, 0) AS BIGINT) AS rows,
    CAST(coalesce(lp.rejected, 0) AS BIGINT) AS rejected,
    lp.load_ids
FROM universe AS u
JOIN forces AS f ON f.code = u.force_code
LEFT JOIN lp USING (source, force_code, period, period_start, period_kind);
