-- wrk script: items pages for random bboxes around Tuscan towns.
-- wrk -t2 -c16 -d15s -s benches/load/random_bbox.lua http://127.0.0.1:8080 -- COLLECTION LIMIT SIZE
local towns = {
  {11.2558, 43.7696}, {10.4017, 43.7228}, {11.1139, 42.7635}, {10.1417, 44.0354},
  {11.8798, 43.4633}, {11.3308, 43.3188}, {10.3150, 43.5485}, {10.9170, 43.8780},
  {10.5030, 43.8430}, {11.0990, 43.8810}, {10.6080, 43.3010}, {11.6130, 43.5650},
}
local collection, limit, size = "particelle_1000000", 100, 0.03
function init(args)
  collection = args[1] or collection
  limit = tonumber(args[2] or limit)
  size = tonumber(args[3] or size)
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
end
function request()
  local t = towns[math.random(#towns)]
  local x = t[1] + (math.random() - 0.5) * 0.04
  local y = t[2] + (math.random() - 0.5) * 0.04
  local s = size * (0.7 + 0.6 * math.random())
  local path = string.format("/collections/%s/items?limit=%d&bbox=%.5f,%.5f,%.5f,%.5f",
    collection, limit, x - s / 2, y - s / 2, x + s / 2, y + s / 2)
  return wrk.format("GET", path)
end
