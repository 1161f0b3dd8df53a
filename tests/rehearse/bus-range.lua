-- SPDX-License-Identifier: MIT
-- Test script: the bus-range of the PCIe host bridge in a device tree blob (QEMU's
-- -machine ...,dumpdtb=FILE), printed as "FIRST LAST". Usage: vflaunch -q bus-range.lua FILE.dtb
-- The flattened device tree format: a header of big-endian words, then a structure block of
-- tokens (1 begin node + name, 2 end node, 3 property: length, name offset, value; 4 nop; 9 end)
-- and a strings block of property names.
local f = assert(io.open(arg[1], "rb"))
local d = f:read("a")
f:close()
local magic, _, off_struct, off_strings = string.unpack(">I4I4I4I4", d)
assert(magic == 0xd00dfeed, arg[1] .. " is not a device tree blob")
local i, depth, node = off_struct + 1, 0, {}
while true do
  local tok = string.unpack(">I4", d, i)
  i = i + 4
  if tok == 1 then
    local name = string.unpack("z", d, i)
    depth = depth + 1
    node[depth] = name
    i = i + ((#name + 1 + 3) & ~3)
  elseif tok == 2 then
    depth = depth - 1
  elseif tok == 3 then
    local len, nameoff = string.unpack(">I4I4", d, i)
    local name = string.unpack("z", d, off_strings + nameoff + 1)
    if name == "bus-range" and node[depth]:match("^pcie@") then
      print(string.format("%d %d", string.unpack(">I4I4", d, i + 8)))
      return
    end
    i = i + 8 + ((len + 3) & ~3)
  elseif tok == 9 then
    break
  end
end
error("no bus-range of a pcie@ node in " .. arg[1])
