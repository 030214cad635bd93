SELECT SUM(clicks) / COUNT(*) AS ctr FROM t;
/* never closed; really
SELECT 1;
