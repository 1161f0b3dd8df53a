-- luacheck settings for lua/, scripts/ and the Lua tests (make lint).
std = "lua54"
max_line_length = 140
