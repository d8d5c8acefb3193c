-- wrk script: a new search on every request, so no two requests share a render. Give the URL
-- without q and the shape of q after `--` (pair when none is given):
--   wrk ... -s bench/new-query.lua 'http://H:P/feed.atom?days=30' -- pair
--   pair     two common words joined by OR and a negated term (bench/run.sh's miss)
--   word     one common word and a negated term (bench/archive.sh's month digests)
--   eleven   eleven common words joined by OR and a negated term (bench/archive.sh's searches)
-- The words are common in paper titles, so the feeds have papers; the negated term is made
-- unique by a counter. Each wrk thread of each run counts in its own range (threads do not
-- share Lua state, and a script may run twice in one benchmark: without distinct ranges a
-- query would be asked twice, and kept by the render cache as a feed that readers poll).
local words = {"model", "learning", "diffusion", "language", "attention", "neural", "training",
  "efficient", "graph", "vision", "transformer", "reasoning", "agent", "memory", "data",
  "image", "video", "tensor", "network", "quantization", "benchmark", "inference"}
local counter = 0
local threads = 0
local shape = "pair"

local run = (os.time() % 100000) * 100000

local function word(n)
  return words[(n % #words) + 1]
end

local queries = {
  pair = function(n)
    return word(n) .. "+OR+" .. word(n * 7) .. "+-x" .. n
  end,
  word = function(n)
    return word(n) .. "+-d" .. n
  end,
  eleven = function(n)
    local terms = {}
    for k = 1, 11 do
      -- strides 1, 2, 3... of the counter: a different combination of words on most requests
      terms[k] = word(n * k + k)
    end
    return table.concat(terms, "+OR+") .. "+-s" .. n
  end,
}

setup = function(thread)
  threads = threads + 1
  thread:set("offset", threads * 100000000000 + run)
end

init = function(args)
  counter = offset or 0
  shape = args[1] or "pair"
  if not queries[shape] then
    error("new-query.lua: the shape of q is pair, word or eleven, not " .. shape)
  end
end

request = function()
  counter = counter + 1
  return wrk.format("GET", wrk.path .. "&q=" .. queries[shape](counter))
end
