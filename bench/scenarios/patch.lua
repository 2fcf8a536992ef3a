-- PATCH /tasks/{id} {"done": true|false}, a random id in 1..ROWS.
local common = require("common")
common.use(common.patch)
