-- wrk script for bench/archive.sh: a month digest with a new search on every request, so no
-- two requests share a render. Give the digest URL without q, e.g.
--   wrk ... -s bench/archive-digest.lua 'http://H:P/digest.atom?period=month&count=12'
-- q is a common word of paper titles (so the digest has papers) and a negated term made
-- unique by a counter. Each wrk thread of each run counts in its own range (threads do not
-- share Lua state; without distinct ranges two threads would ask the same q, and the second
-- would be a render-cache hit).
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
  local word = words[(counter % #words) + 1]
  return wrk.format("GET", wrk.path .. "&q=" .. word .. "+-d" .. counter)
end
