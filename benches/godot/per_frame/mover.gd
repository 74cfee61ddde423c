extends Node2D
## The GDScript twin of mover.lua.

var velocity := Vector2(10, 5)


func _process(delta: float) -> void:
	position += velocity * delta
