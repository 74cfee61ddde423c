extends Node
## An autoload, for the test that Lua reaches autoloads by name.

var greeting := "hello from an autoload"
