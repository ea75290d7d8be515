-- Paces wrk's connections to about 1,000 req/s over -c4, the rate the
-- /health latency target is stated at: after each answer a connection
-- waits 0 to 7 ms, 3.5 ms on average (an answer takes about 0.3 ms).
-- Drawn at random, so that the four do not march in step: a fixed 4 ms
-- sent them in bursts of four every 4 ms, each burst's last request
-- queued behind three others, and about 880 req/s.
math.randomseed(20261207)

function delay()
  return math.random(0, 7)
end
