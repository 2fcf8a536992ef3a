-- GET the `next` link of a deep page, as the server wrote it (bench/wrk.py reads it
-- before the run): an offset, or whatever cursor the server puts there.
local common = require("common")
common.use(common.deep_next)
