-- The "floor": mart.dossier_resolution straight from an export bundle, in one DuckDB
-- script, as the fastest honest way to the same numbers (domain.md section 3).
--
-- Input : SET VARIABLE bundle = '/path/to/bundle';   (bench/floor.py does this)
-- Output: table floor_resolution, one row per (period_type 'year' | 'month',
--         period_start, agency_code = MaDonVi, procedure_code = MaTTHC) with
--         period_end and the report columns (4)-(12), withdrawn and resolved_early;
--         rows of all zeros left out.
--
-- What it does, and the few things it does not:
-- * every line of dossiers/*.jsonl[.gz]; lines that are not valid JSON are skipped
--   (the pipeline quarantines them: they count nowhere either way);
-- * per record, the pipeline's quarantine rules: no MaHoSo; status or channel outside
--   its table; NgayCapNhat missing or unparseable; intake, resolution, withdrawal or
--   due present but unparseable; received (status not 1, 3) without intake; resolution
--   or withdrawal before intake; received without a due. The floor does NOT compute a
--   missing due from the working-day calendar (the benchmark bundles always carry
--   NgayHenTra): such records are left out where the pipeline would compute the due;
-- * the current record of a dossier: the valid one with the greatest NgayCapNhat,
--   ties broken by a hash of the record's fields (deterministic, whatever the order
--   of files and lines);
-- * milestones: r = NgayTiepNhan else earliest history 2; f = NgayKetThucXuLy else
--   earliest history 9 else 10; w = earliest history 7/8 else NgayCapNhat when the
--   status is 7/8; the earlier of f and w ends the dossier (resolution wins a tie);
--   u = NgayHenTra;
-- * periods: every calendar month and year from the month of the earliest intake to
--   that of the latest intake or end, over received dossiers; all comparisons by
--   calendar day. Instead of crossing dossiers with periods, each dossier adds +1/-1
--   to a few monthly counters and running sums give the stocks:
--     carried_over(M)  = intakes before M - ends before M          (e >= r always)
--     pending(M)       = intakes up to M  - ends up to M
--     overdue(M)       = #{max(date(r), date(u) + 1) <= end(M) < date(e)}
--   A year row takes its January's carried_over, its December's stocks and the sum
--   of its months' flows.
-- * timestamps: yyyyMMddHHmmss (fast path), yyyyMMdd, ISO 8601, with Z or +-HH:MM
--   converted to local time (UTC+7); empty strings are null.

SET VARIABLE floor_glob = getvariable('bundle') || '/dossiers/*.jsonl*';

-- local timestamp from the parts of a non-canonical value (regexp_extract groups)
CREATE OR REPLACE TEMP MACRO floor_ts_parts(g) AS
    CASE WHEN g.y = '' THEN NULL ELSE
        try_strptime(g.y || g.mo || g.d || coalesce(nullif(g.h, ''), '00')
                     || coalesce(nullif(g.mi, ''), '00') || coalesce(nullif(g.s, ''), '00'),
                     '%Y%m%d%H%M%S')
        + CASE WHEN g.tz = '' THEN INTERVAL 0 MINUTE
               WHEN g.tz = 'Z' THEN INTERVAL 420 MINUTE
               ELSE to_minutes((420 - (CASE WHEN g.tz[1] = '-' THEN -1 ELSE 1 END)
                     * (g.tz[2:3]::INTEGER * 60 + right(g.tz, 2)::INTEGER))::BIGINT) END
    END;

CREATE OR REPLACE TEMP MACRO floor_ts_slow(x) AS floor_ts_parts(regexp_extract(x,
    '^(\d{4})-?(\d{2})-?(\d{2})(?:[T ]?(\d{2}):?(\d{2}):?(\d{2})(?:\.\d{1,6})?)?\s*(Z|[+-]\d{2}:?\d{2})?$',
    ['y', 'mo', 'd', 'h', 'mi', 's', 'tz']));

-- local timestamp, or NULL when empty / unparseable (yyyyMMddHHmmss is the fast path)
CREATE OR REPLACE TEMP MACRO floor_ts(x) AS
    CASE WHEN x IS NULL OR x = '' THEN NULL
         ELSE coalesce(try_strptime(x, '%Y%m%d%H%M%S'), floor_ts_slow(trim(x))) END;

-- present (not null, not blank) but unparseable
CREATE OR REPLACE TEMP MACRO floor_bad(x, t) AS (t IS NULL AND nullif(trim(x), '') IS NOT NULL);

-- 1. every record, parsed, with its milestones and whether it is valid
CREATE OR REPLACE TEMP VIEW floor_record AS
WITH raw AS (
    SELECT *
    FROM read_json(getvariable('floor_glob'),
        format = 'newline_delimited',
        compression = 'auto_detect',
        ignore_errors = true,
        columns = {
            'MaHoSo': 'VARCHAR', 'MaTTHC': 'VARCHAR', 'MaDonVi': 'VARCHAR',
            'KenhThucHien': 'VARCHAR', 'TrangThaiHoSo': 'VARCHAR', 'NgayCapNhat': 'VARCHAR',
            'NgayTiepNhan': 'VARCHAR', 'NgayHenTra': 'VARCHAR', 'NgayKetThucXuLy': 'VARCHAR',
            'QuaTrinhXuLy': 'STRUCT(TrangThai VARCHAR, ThoiDiemXuLy VARCHAR)[]'
        })
), p AS (
    SELECT
        nullif(trim(MaHoSo), '') AS dossier,
        coalesce(trim(MaTTHC), '') AS procedure_code,
        coalesce(trim(MaDonVi), '') AS agency_code,
        TRY_CAST(TrangThaiHoSo AS INTEGER) AS status,
        TRY_CAST(KenhThucHien AS INTEGER) AS channel,
        floor_ts(NgayCapNhat) AS upd,
        nullif(trim(NgayTiepNhan), '') AS r_raw, floor_ts(NgayTiepNhan) AS r_rec,
        nullif(trim(NgayKetThucXuLy), '') AS f_raw, floor_ts(NgayKetThucXuLy) AS f_rec,
        nullif(trim(NgayHenTra), '') AS u_raw, floor_ts(NgayHenTra) AS u,
        -- history entries that can make a milestone; those for r and f are only looked
        -- at when the snapshot's own field is absent
        list_filter(QuaTrinhXuLy, lambda h: TRY_CAST(h.TrangThai AS INTEGER) IN (7, 8)) AS h_w,
        CASE WHEN r_raw IS NULL THEN
            list_filter(QuaTrinhXuLy, lambda h: TRY_CAST(h.TrangThai AS INTEGER) = 2) END AS h_r,
        CASE WHEN f_raw IS NULL THEN
            list_filter(QuaTrinhXuLy, lambda h: TRY_CAST(h.TrangThai AS INTEGER) IN (9, 10)) END AS h_f,
        hash(MaHoSo, MaTTHC, MaDonVi, KenhThucHien, TrangThaiHoSo, NgayTiepNhan, NgayHenTra,
             NgayKetThucXuLy, QuaTrinhXuLy) AS tiebreak
    FROM raw
), m AS (
    SELECT p.*,
        coalesce(r_rec,
            CASE WHEN len(h_r) > 0 THEN
                list_min(list_transform(h_r, lambda h: floor_ts(h.ThoiDiemXuLy))) END) AS r,
        coalesce(f_rec,
            CASE WHEN len(h_f) > 0 THEN coalesce(
                list_min(list_transform(list_filter(h_f, lambda h: TRY_CAST(h.TrangThai AS INTEGER) = 9),
                                        lambda h: floor_ts(h.ThoiDiemXuLy))),
                list_min(list_transform(list_filter(h_f, lambda h: TRY_CAST(h.TrangThai AS INTEGER) = 10),
                                        lambda h: floor_ts(h.ThoiDiemXuLy)))) END) AS f,
        coalesce(
            CASE WHEN len(h_w) > 0 THEN
                list_min(list_transform(h_w, lambda h: floor_ts(h.ThoiDiemXuLy))) END,
            CASE WHEN status IN (7, 8) THEN upd END) AS w,
        (r_raw IS NOT NULL AND r_rec IS NULL)
            OR (f_raw IS NOT NULL AND f_rec IS NULL)
            OR (u_raw IS NOT NULL AND u IS NULL)
            OR CASE WHEN len(h_w) + coalesce(len(h_r), 0) + coalesce(len(h_f), 0) > 0 THEN
                   list_bool_or(list_transform(list_concat(h_w, h_r, h_f),
                       lambda h: floor_bad(h.ThoiDiemXuLy, floor_ts(h.ThoiDiemXuLy))))
               ELSE false END AS unparseable
    FROM p
)
SELECT dossier, procedure_code, agency_code, status, upd, tiebreak, r, f, w, u,
    dossier IS NOT NULL
    AND status BETWEEN 1 AND 10
    AND channel BETWEEN 1 AND 3
    AND upd IS NOT NULL
    AND NOT unparseable
    AND (status IN (1, 3) OR (r IS NOT NULL AND u IS NOT NULL))
    AND NOT coalesce(f < r, false)
    AND NOT coalesce(w < r, false) AS valid
FROM m;

-- 2. the current record of each dossier; received ones, with dates
CREATE OR REPLACE TEMP TABLE floor_dossier AS
WITH cur AS (
    -- valid first in the key rather than WHERE valid: a filter would be pushed down and
    -- evaluate the milestone expressions twice
    SELECT dossier,
        arg_max({'valid': valid, 'status': status, 'procedure_code': procedure_code,
                 'agency_code': agency_code, 'r': r, 'f': f, 'w': w, 'u': u},
                {'valid': valid, 'upd': upd, 'tiebreak': tiebreak}) AS c
    FROM floor_record
    GROUP BY dossier
), d AS (
    SELECT c.agency_code, c.procedure_code,
        c.r::DATE AS rd, c.u::DATE AS ud,
        -- the earlier of f and w ends the dossier; at the same instant resolution wins
        CASE WHEN c.f IS NOT NULL AND (c.w IS NULL OR c.f <= c.w) THEN c.f::DATE END AS fd,
        CASE WHEN c.w IS NOT NULL AND (c.f IS NULL OR c.w < c.f) THEN c.w::DATE END AS wd
    FROM cur
    WHERE c.valid AND c.status NOT IN (1, 3)
)
SELECT *, coalesce(fd, wd) AS ed, greatest(rd, ud + 1) AS od FROM d;

-- 3. monthly counters per group (agency, procedure)
CREATE OR REPLACE TEMP TABLE floor_delta AS
WITH ev AS (
    SELECT agency_code, procedure_code, date_trunc('month', rd)::DATE AS month,
           1 AS new, 0 AS ended, 0 AS on_time, 0 AS late, 0 AS early, 0 AS wdr, 0 AS od
    FROM floor_dossier
    UNION ALL
    SELECT agency_code, procedure_code, date_trunc('month', ed)::DATE,
           0, 1, coalesce((fd <= ud)::INTEGER, 0), coalesce((fd > ud)::INTEGER, 0),
           coalesce((fd < ud)::INTEGER, 0), (wd IS NOT NULL)::INTEGER,
           -((od < ed)::INTEGER)
    FROM floor_dossier WHERE ed IS NOT NULL
    UNION ALL
    SELECT agency_code, procedure_code, date_trunc('month', od)::DATE, 0, 0, 0, 0, 0, 0, 1
    FROM floor_dossier WHERE ed IS NULL OR od < ed
)
SELECT agency_code, procedure_code, month,
    sum(new) AS new, sum(ended) AS ended, sum(on_time) AS on_time, sum(late) AS late,
    sum(early) AS early, sum(wdr) AS wdr, sum(od) AS od
FROM ev GROUP BY ALL;

-- 4. the grid: January of the first year to December of the last; the marts cover
--    months [first, last] and the years that overlap them
CREATE OR REPLACE TEMP TABLE floor_span AS
SELECT date_trunc('month', min(rd))::DATE AS first_month,
       date_trunc('month', max(greatest(rd, coalesce(ed, rd))))::DATE AS last_month
FROM floor_dossier;

CREATE OR REPLACE TEMP TABLE floor_month AS
WITH grid AS (
    SELECT unnest(generate_series(date_trunc('year', first_month),
                                  date_trunc('year', last_month) + INTERVAL 11 MONTH,
                                  INTERVAL 1 MONTH))::DATE AS month
    FROM floor_span WHERE first_month IS NOT NULL
), cells AS (
    SELECT g.agency_code, g.procedure_code, grid.month,
        coalesce(d.new, 0) AS new, coalesce(d.ended, 0) AS ended,
        coalesce(d.on_time, 0) AS on_time, coalesce(d.late, 0) AS late,
        coalesce(d.early, 0) AS early, coalesce(d.wdr, 0) AS wdr, coalesce(d.od, 0) AS od
    FROM (SELECT DISTINCT agency_code, procedure_code FROM floor_delta) g
    CROSS JOIN grid
    LEFT JOIN floor_delta d USING (agency_code, procedure_code, month)
), run AS (
    SELECT *,
        sum(new) OVER w AS cum_new, sum(ended) OVER w AS cum_end, sum(od) OVER w AS cum_od
    FROM cells
    WINDOW w AS (PARTITION BY agency_code, procedure_code ORDER BY month
                 ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
)
SELECT agency_code, procedure_code, month,
    (cum_new - new) - (cum_end - ended) AS carried_over,
    new AS received_new,
    on_time AS resolved_on_time, late AS resolved_late, early AS resolved_early,
    wdr AS withdrawn,
    cum_new - cum_end AS pending_total,
    cum_od AS pending_overdue
FROM run;

-- 5. the mart
CREATE OR REPLACE TEMP TABLE floor_resolution AS
WITH months AS (
    SELECT 'month' AS period_type, month AS period_start,
        (month + INTERVAL 1 MONTH - INTERVAL 1 DAY)::DATE AS period_end,
        agency_code, procedure_code, carried_over, received_new, resolved_on_time,
        resolved_late, resolved_early, withdrawn, pending_total, pending_overdue
    FROM floor_month, floor_span
    WHERE month BETWEEN first_month AND last_month
), years AS (
    SELECT 'year' AS period_type, date_trunc('year', month)::DATE AS period_start,
        (date_trunc('year', month) + INTERVAL 1 YEAR - INTERVAL 1 DAY)::DATE AS period_end,
        agency_code, procedure_code,
        arg_min(carried_over, month) AS carried_over,
        sum(received_new) AS received_new,
        sum(resolved_on_time) AS resolved_on_time, sum(resolved_late) AS resolved_late,
        sum(resolved_early) AS resolved_early, sum(withdrawn) AS withdrawn,
        arg_max(pending_total, month) AS pending_total,
        arg_max(pending_overdue, month) AS pending_overdue
    FROM floor_month
    GROUP BY ALL
), rows AS (
    SELECT * FROM years UNION ALL SELECT * FROM months
)
SELECT period_type, period_start, period_end, agency_code, procedure_code,
    (carried_over + received_new)::BIGINT AS received_total,
    carried_over::BIGINT AS carried_over,
    received_new::BIGINT AS received_new,
    (resolved_on_time + resolved_late)::BIGINT AS resolved_total,
    resolved_on_time::BIGINT AS resolved_on_time,
    resolved_late::BIGINT AS resolved_late,
    pending_total::BIGINT AS pending_total,
    (pending_total - pending_overdue)::BIGINT AS pending_not_due,
    pending_overdue::BIGINT AS pending_overdue,
    withdrawn::BIGINT AS withdrawn,
    resolved_early::BIGINT AS resolved_early
FROM rows
WHERE carried_over <> 0 OR received_new <> 0 OR resolved_on_time <> 0 OR resolved_late <> 0
   OR withdrawn <> 0 OR pending_total <> 0 OR resolved_early <> 0
ORDER BY period_type, period_start, agency_code, procedure_code;
