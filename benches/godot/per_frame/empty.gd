extends Node2D
## The GDScript twin of empty.lua.


func _process(_delta: float) -> void:
	pass
