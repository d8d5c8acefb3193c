-- wrk script for bench/archive.sh: a one-off search of 12 terms on every request (eleven
-- common words of paper titles joined by OR, and a negated term made unique by a counter), so
-- no two requests share a render. Give the feed URL without q, e.g.
--   wrk ... -s bench/archive-search.lua 'http://H:P/feed.atom?days=30'
-- Each wrk thread of each run counts in its own range (threads do not share Lua state).
local words = {"model", "learning", "diffusion", "language", "attention", "neural", "training",
  "efficient", "graph", "vision", "transformer", "reasoning", "agent", "memory", "data",
  "image", "video", "tensor", "network", "quantization", "benchmark", "inference"}
local counter = 0
local threads = 0

local run = (os.time() % 100000) * 100000

setup = function(thread)
  threads = threads + 1
  thread:set("offset", threads * 100000000000 + run)
end

init = function(args)
  counter = offset or 0
end

request = function()
  counter = counter + 1
  local terms = {}
  for k = 1, 11 do
    -- strides 1, 2, 3... of the counter: a different combination of words on most requests
    terms[k] = words[((counter * k + k) % #words) + 1]
  end
  local q = table.concat(terms, "+OR+") .. "+-s" .. counter
  return wrk.format("GET", wrk.path .. "&q=" .. q)
end
