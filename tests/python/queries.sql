-- The three analytical queries of the seed, as written for the reference's
-- checkpoints; `{root}` is the checkpoint directory. They must keep working
-- on eventlog's output unchanged.

-- name: latest_event_per_visit
SELECT pipeline_adcid, ptid, visit_date, datatype, module, action, timestamp
FROM (
  SELECT *, row_number() OVER (
      PARTITION BY pipeline_adcid, ptid, visit_date, datatype, coalesce(module, '')
      ORDER BY timestamp DESC, action) AS rn
  FROM read_parquet('{root}/*/*/events.parquet'))
WHERE rn = 1
ORDER BY pipeline_adcid, ptid, visit_date, datatype, module;

-- name: monthly_not_pass_qc_per_center
SELECT center_label, strftime(timezone('UTC', timestamp), '%Y-%m') AS month, count(*) AS failures
FROM read_parquet('{root}/*/*/events.parquet')
WHERE action = 'not-pass-qc'
GROUP BY ALL
ORDER BY ALL;

-- name: qc_timing_per_center
WITH ev AS (SELECT * FROM read_parquet('{root}/*/*/events.parquet')),
     s AS (SELECT pipeline_adcid, ptid, visit_date, module, center_label, min(timestamp) AS t
           FROM ev WHERE action = 'submit' GROUP BY ALL),
     q AS (SELECT pipeline_adcid, ptid, visit_date, module, min(timestamp) AS t
           FROM ev WHERE action = 'pass-qc' GROUP BY ALL)
SELECT s.center_label, count(*) AS visits, round(avg(epoch(q.t) - epoch(s.t)) / 3600.0, 3) AS avg_hours_to_qc
FROM s JOIN q ON s.pipeline_adcid = q.pipeline_adcid AND s.ptid = q.ptid
             AND s.visit_date = q.visit_date AND s.module IS NOT DISTINCT FROM q.module
WHERE q.t >= s.t
GROUP BY 1
ORDER BY 1;
