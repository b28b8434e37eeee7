-- wrk script: the same list of tile paths, round robin, gzip accepted as browsers do.
-- wrk -t2 -c16 -d10s -s benches/load/tiles.lua http://127.0.0.1:8080 -- TILE_LIST_FILE
local paths = {}
local i = 0
function init(args)
  for line in io.lines(args[1]) do
    paths[#paths + 1] = line
  end
  i = math.random(#paths)
end
function request()
  i = i % #paths + 1
  return wrk.format("GET", paths[i], { ["Accept-Encoding"] = "gzip" })
end
