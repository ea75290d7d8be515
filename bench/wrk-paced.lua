-- Paces each wrk connection: 4 ms between its requests, so -c4 asks about
-- 1,000 req/s, the rate the /health latency target is stated at.
function delay()
  return 4
end
