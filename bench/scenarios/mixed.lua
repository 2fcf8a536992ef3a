-- 80% reads, 20% writes: 40% list, 40% retrieve, 10% create, 10% patch.
-- Without retrieve (script argument "noretrieve"), the reads are all list.
local common = require("common")

local function mixed()
   local draw = math.random()
   if draw < 0.4 then
      return common.list()
   elseif draw < 0.8 then
      if common.has_retrieve then
         return common.retrieve()
      end
      return common.list()
   elseif draw < 0.9 then
      return common.create()
   end
   return common.patch()
end

common.use(mixed)
