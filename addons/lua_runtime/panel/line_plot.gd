@tool
extends Control
## A small line plot of one value over the last minute, with its title and latest value.

## Samples older than this many seconds fall off the left edge.
@export var span_seconds := 60.0
@export var title := ""
## Turns a value into the text shown next to the title.
var format_value: Callable = func(v: float) -> String: return "%.1f" % v
## When set, the vertical axis runs from 0 to this (e.g. 100 for a percentage);
## otherwise from 0 to the largest value shown.
@export var fixed_max := 0.0
@export var line_color := Color(0.45, 0.75, 1.0)

var _times := PackedFloat64Array()
var _values := PackedFloat64Array()


func _init() -> void:
	custom_minimum_size = Vector2(200, 70)


## Adds a sample taken at `time` (seconds, any monotonic clock) and drops old ones.
func add_sample(time: float, value: float) -> void:
	_times.append(time)
	_values.append(value)
	var first := 0
	while first < _times.size() and _times[first] < time - span_seconds:
		first += 1
	if first > 0:
		_times = _times.slice(first)
		_values = _values.slice(first)
	if is_visible_in_tree():
		queue_redraw()


func clear() -> void:
	_times.clear()
	_values.clear()
	queue_redraw()


func sample_count() -> int:
	return _values.size()


func latest() -> float:
	return _values[_values.size() - 1] if not _values.is_empty() else 0.0


func _draw() -> void:
	var font := get_theme_font("font", "Label")
	var font_size := get_theme_font_size("font_size", "Label")
	var text_color := get_theme_color("font_color", "Label")
	var header := title
	if not _values.is_empty():
		header += ": " + format_value.call(latest())
	draw_string(font, Vector2(0, font_size), header, HORIZONTAL_ALIGNMENT_LEFT, size.x,
			font_size, text_color)
	var area := Rect2(0, font_size + 6, size.x, size.y - font_size - 8)
	draw_rect(area, Color(text_color, 0.06))
	draw_rect(area, Color(text_color, 0.18), false)
	if _values.size() < 2:
		return
	var top := fixed_max
	if top <= 0.0:
		for v in _values:
			top = maxf(top, v)
	if top <= 0.0:
		top = 1.0
	top *= 1.08  # headroom, so a line at the maximum stays visible
	var now := _times[_times.size() - 1]
	# Until a full span has been seen, the plot stretches what there is over its width.
	var shown := clampf(now - _times[0], 10.0, span_seconds)
	var points := PackedVector2Array()
	for i in _values.size():
		var x := area.position.x + area.size.x * (1.0 - (now - _times[i]) / shown)
		var y := area.end.y - area.size.y * clampf(_values[i] / top, 0.0, 1.0)
		points.append(Vector2(x, y))
	draw_polyline(points, line_color, 1.5, true)
