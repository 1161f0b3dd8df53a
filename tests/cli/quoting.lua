-- Test script: values a shell and QEMU would both misread — quotes, spaces, $, commas.
local vf = require "vflaunch"
local m = vf.machine {
  type = "virt", options = { "gic-version=3", ["dumpdtb"] = "/tmp/a,b.dtb" },
  cpu = "host", memory = "2G", kernel = "/tmp/it's a $HOME kernel", append = "a=\"b c\" `d` \\e",
  args = { "-name", "guest,debug-threads=on", "-nographic" },
}
m:root_port():add(vf.vfs { vendor = 0x8086 }[1])
