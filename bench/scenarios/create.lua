-- POST /tasks {"title": "bench task ..."}.
local common = require("common")
common.use(common.create)
