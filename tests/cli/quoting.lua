-- Test script: values a shell and QEMU would both misread — quotes, spaces, $, commas, an
-- empty word, a leading ~ and #, a command word with '=' (sh would take it for an assignment).
local vf = require "vflaunch"
local m = vf.machine {
  type = "virt", options = { "gic-version=3", ["dumpdtb"] = "/tmp/a,b.dtb" },
  cpu = "host", memory = "2G", kernel = "/tmp/it's a $HOME kernel", append = "a=\"b c\" `d` \\e",
  args = { "-name", "guest,debug-threads=on", "-nographic", "-fw_cfg", "", "-smbios", "~root#x" },
  qemu = "/tmp/v=1/qemu-system-aarch64",
}
m:root_port():add(vf.vfs { vendor = 0x8086 }[1])
