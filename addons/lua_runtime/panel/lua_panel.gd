@tool
extends VBoxContainer
## The "Lua" tab of the editor's bottom panel: what the Lua runtime is doing, live.
##
## Shows the editor's own runtime, or the running game's while one is attached to the
## debugger (the game sends its statistics; see debugger_link.gd). Refreshes four times a
## second while visible and does nothing while hidden.

## A button was pressed: "clear_caches", "warm_cache" or "collect_garbage". The plugin
## routes it to the game while one is shown, else to the editor's runtime.
signal action_requested(command: String)

const REFRESH_SECONDS := 0.25
const LinePlot := preload("line_plot.gd")
const ScriptLocation := preload("../editor/script_location.gd")

## Rows of the numbers: [column, section, label]; _format() gives each its text.
const ROWS := [
	[0, "Bytecode cache", "Hit rate"],
	[0, "Bytecode cache", "Entries (mem / disk)"],
	[0, "Bytecode cache", "Bytes (mem / disk)"],
	[0, "Bytecode cache", "Compiles"],
	[0, "Bytecode cache", "Rejected files"],
	[0, "Bytecode cache", "Time saved"],
	[0, "LuaJIT", "Traces (aborted)"],
	[0, "LuaJIT", "Blacklisted aborts"],
	[1, "Lua", "Heap"],
	[1, "Lua", "GC cycles (last step)"],
	[1, "Lua", "Scripts / nodes"],
	[1, "Lua", "Waiting in await"],
	[1, "Lua", "Script errors"],
	[1, "Queries", "Hit rate"],
	[1, "Queries", "Invalidations"],
	[1, "Queries", "Events (handlers run)"],
	[2, "Hot reload", "Reloads"],
	[2, "Hot reload", "p50 / p95"],
	[2, "Pools", "Names"],
	[2, "Pools", "Object reuse"],
	[2, "Expressions", "Hit rate"],
	[2, "Expressions", "Invalidations"],
]

## The latest statistics (shown while the panel is visible), and where they come from
## ("editor" or "game").
var shown_stats: Dictionary = {}
var shown_source := "editor"

var _labels := {}  # "Section/Label" -> Label holding the value
var _since_refresh := 0.0
var _game_attached := false
var _expression_sort := 1  # column of the expressions table to sort by (descending)

@onready var _source: Label = %Source
@onready var _numbers: HFlowContainer = %Numbers
@onready var _hit_plot: LinePlot = %HitRatePlot
@onready var _memory_plot: LinePlot = %MemoryPlot
@onready var _errors: ItemList = %Errors
@onready var _reloads: Tree = %Reloads
@onready var _scripts: Tree = %Scripts
@onready var _expressions: Tree = %Expressions
@onready var _queries: Tree = %Queries
@onready var _hints: Label = %Hints
@onready var _details: TabContainer = %Details


func _ready() -> void:
	_build_numbers()
	_titles(_reloads, ["Script", "Latency"])
	_titles(_scripts, ["Script", "Heap at load"])
	_titles(_expressions, ["Expression", "Evaluations", "Hit rate", "Time"])
	_titles(_queries, ["Query", "Asked", "Hit rate", "Invalidations"])
	_hit_plot.format_value = func(v: float) -> String: return "%.1f %%" % v
	_hit_plot.fixed_max = 100.0
	_memory_plot.format_value = func(v: float) -> String: return _bytes(int(v * 1048576.0))
	_memory_plot.line_color = Color(0.55, 0.9, 0.55)
	%ClearCaches.pressed.connect(func(): action_requested.emit("clear_caches"))
	%WarmCache.pressed.connect(func(): action_requested.emit("warm_cache"))
	%CollectGarbage.pressed.connect(func(): action_requested.emit("collect_garbage"))
	_errors.item_activated.connect(_on_error_activated)
	_expressions.column_title_clicked.connect(_on_expression_column_clicked)
	visibility_changed.connect(_on_visibility_changed)
	_on_visibility_changed()


func _process(delta: float) -> void:
	_since_refresh += delta
	if _since_refresh < REFRESH_SECONDS:
		return
	_since_refresh = 0.0
	refresh()


## Reads the editor's runtime and shows it (ignored while a game is shown).
func refresh() -> void:
	if _game_attached or not Engine.has_singleton("LuaRuntime"):
		return
	var stats: Dictionary = Engine.get_singleton("LuaRuntime").get_stats()
	_add_samples(stats)
	show_stats(stats, "editor")


## Statistics from the running game arrived (about twice a second while it runs).
func receive_game_stats(stats: Dictionary) -> void:
	if not _game_attached:
		_game_attached = true
		_hit_plot.clear()
		_memory_plot.clear()
	_add_samples(stats)
	if is_visible_in_tree():
		show_stats(stats, "game")
	else:
		# Kept for when the tab is shown; rendering waits until then.
		shown_stats = stats
		shown_source = "game"


## The game stopped: back to the editor's numbers.
func game_stopped() -> void:
	if not _game_attached:
		return
	_game_attached = false
	_hit_plot.clear()
	_memory_plot.clear()
	refresh()


func is_showing_game() -> bool:
	return _game_attached


## The text shown for a row, e.g. value_text("Bytecode cache", "Hit rate"). For tests.
func value_text(section: String, label: String) -> String:
	var value: Label = _labels.get(section + "/" + label)
	return value.text if value != null else ""


## Renders `stats`, which came from `source` ("editor" or "game").
func show_stats(stats: Dictionary, source: String) -> void:
	shown_stats = stats
	shown_source = source
	var flavour: String = _at(stats, "lua/flavour", "Lua")
	if source == "game":
		_source.text = "Running game (%s)" % flavour
		_source.modulate = Color(0.6, 1.0, 0.6)
	else:
		_source.text = "Editor (%s)" % flavour
		_source.modulate = Color.WHITE
	for row in ROWS:
		var key: String = row[1] + "/" + row[2]
		_labels[key].text = _format(key, stats)
	_show_errors(_at(stats, "errors/recent", []))
	_show_reloads(_at(stats, "reload/recent", []))
	_show_scripts(_at(stats, "lua/memory_by_script", {}))
	_show_expressions(stats.get("expressions", {}))
	_show_queries(_at(stats, "queries/top", []))


func _on_visibility_changed() -> void:
	var visible_now := is_visible_in_tree()
	set_process(visible_now)
	if visible_now:
		_since_refresh = 0.0
		if _game_attached and not shown_stats.is_empty():
			show_stats(shown_stats, "game")
		else:
			refresh()


func _add_samples(stats: Dictionary) -> void:
	var now := Time.get_ticks_msec() / 1000.0
	_hit_plot.add_sample(now, float(_at(stats, "bytecode/hit_rate")) * 100.0)
	_memory_plot.add_sample(now, float(_at(stats, "lua/memory_bytes")) / 1048576.0)


static func _titles(tree: Tree, titles: Array) -> void:
	tree.column_titles_visible = true
	for i in titles.size():
		tree.set_column_title(i, titles[i])
		tree.set_column_title_alignment(i, HORIZONTAL_ALIGNMENT_LEFT)
		if i > 0:
			tree.set_column_expand(i, false)
			tree.set_column_custom_minimum_width(i, 100)


func _build_numbers() -> void:
	var columns := {}
	var grid: GridContainer = null
	for row in ROWS:
		if not columns.has(row[0]):
			columns[row[0]] = VBoxContainer.new()
			columns[row[0]].add_theme_constant_override("separation", 0)
			_numbers.add_child(columns[row[0]])
		if grid == null or grid.get_meta("section") != row[1]:
			var heading := Label.new()
			heading.text = row[1]
			heading.add_theme_color_override("font_color", get_theme_color("accent_color", "Editor"))
			columns[row[0]].add_child(heading)
			grid = GridContainer.new()
			grid.columns = 2
			grid.set_meta("section", row[1])
			grid.add_theme_constant_override("h_separation", 12)
			grid.add_theme_constant_override("v_separation", 0)
			columns[row[0]].add_child(grid)
		var name_label := Label.new()
		name_label.text = row[2]
		name_label.modulate = Color(1, 1, 1, 0.65)
		grid.add_child(name_label)
		var value := Label.new()
		grid.add_child(value)
		_labels[row[1] + "/" + row[2]] = value


func _show_errors(recent: Array) -> void:
	_errors.clear()
	for e in recent:
		var location: String = e.path if int(e.line) == 0 else "%s:%d" % [e.path, e.line]
		var text := "%s: %s" % [location, e.message]
		if int(e.count) > 1:
			text += "  (x%d)" % e.count
		var index := _errors.add_item(text)
		_errors.set_item_metadata(index, [e.path, int(e.line)])
		_errors.set_item_tooltip(index, text + "\nDouble-click to open the file at this line.")
	_details.set_tab_title(0, "Errors (%d)" % recent.size() if not recent.is_empty() else "Errors")


func _show_reloads(recent: Array) -> void:
	_reloads.clear()
	var root := _reloads.create_item()
	for r in recent:
		var item := _reloads.create_item(root)
		item.set_text(0, r.path)
		if String(r.error).is_empty():
			item.set_text(1, "%.1f ms" % r.ms)
		else:
			item.set_text(1, "failed")
			item.set_tooltip_text(1, r.error)
			item.set_custom_color(1, get_theme_color("error_color", "Editor"))


func _show_scripts(by_script: Dictionary) -> void:
	_scripts.clear()
	var root := _scripts.create_item()
	var paths := by_script.keys()
	paths.sort_custom(func(a, b): return by_script[a] > by_script[b])
	for path in paths:
		var item := _scripts.create_item(root)
		item.set_text(0, path)
		item.set_text(1, _bytes(by_script[path]))


func _show_expressions(expressions: Dictionary) -> void:
	_expressions.clear()
	var root := _expressions.create_item()
	var top: Array = expressions.get("top", [])
	var keys := ["source", "evaluations", "hit_rate", "compute_us"]
	var key: String = keys[_expression_sort]
	top = top.duplicate()
	top.sort_custom(func(a, b): return a.get(key, 0) > b.get(key, 0))
	for e in top:
		var item := _expressions.create_item(root)
		item.set_text(0, str(e.get("source", "")))
		item.set_text(1, str(e.get("evaluations", 0)))
		item.set_text(2, _percent(e.get("hit_rate", 0.0)))
		item.set_text(3, _micros(e.get("compute_us", 0)))
	var hints: Array = expressions.get("hints", [])
	if expressions.is_empty():
		_hints.text = "No expressions evaluated yet."
	elif hints.is_empty():
		_hints.text = "No hints: every cached expression pays for itself."
	else:
		_hints.text = "\n".join(hints)


func _show_queries(top: Array) -> void:
	_queries.clear()
	var root := _queries.create_item()
	for q in top:
		var item := _queries.create_item(root)
		item.set_text(0, str(q.get("signature", "")))
		item.set_text(1, str(q.get("queries", 0)))
		item.set_text(2, _percent(_ratio(q.get("hits", 0), q.get("queries", 0))))
		item.set_text(3, str(q.get("invalidations", 0)))


func _on_expression_column_clicked(column: int, _mouse_button: int) -> void:
	_expression_sort = maxi(column, 1)
	_show_expressions(shown_stats.get("expressions", {}))


func _on_error_activated(index: int) -> void:
	var where: Array = _errors.get_item_metadata(index)
	ScriptLocation.open(where[0], where[1])


## The text of the row `key` ("Section/Label") for `s`.
static func _format(key: String, s: Dictionary) -> String:
	match key:
		"Bytecode cache/Hit rate":
			return _percent(_at(s, "bytecode/hit_rate"))
		"Bytecode cache/Entries (mem / disk)":
			return "%d / %d" % [
					_at(s, "bytecode/entries_memory"), _at(s, "bytecode/entries_disk")]
		"Bytecode cache/Bytes (mem / disk)":
			return "%s / %s" % [
					_bytes(_at(s, "bytecode/bytes_memory")), _bytes(_at(s, "bytecode/bytes_disk"))]
		"Bytecode cache/Compiles":
			return "%d (%d failed)" % [_at(s, "bytecode/compiles"), _at(s, "bytecode/compile_failures")]
		"Bytecode cache/Rejected files":
			return str(_at(s, "bytecode/rejected"))
		"Bytecode cache/Time saved":
			return _micros(_at(s, "bytecode/time_saved_us"))
		"LuaJIT/Traces (aborted)":
			if not _at(s, "lua/jit/enabled", false):
				return "off"
			return "%d (%d)" % [_at(s, "lua/jit/traces"), _at(s, "lua/jit/aborts")]
		"LuaJIT/Blacklisted aborts":
			return str(_at(s, "lua/jit/aborts_blacklisted"))
		"Lua/Heap":
			return _bytes(_at(s, "lua/memory_bytes"))
		"Lua/GC cycles (last step)":
			if not _has(s, "gc/step_us_last"):
				return str(_at(s, "lua/gc_cycles"))
			return "%d (%s)" % [_at(s, "lua/gc_cycles"), _micros(_at(s, "gc/step_us_last"))]
		"Lua/Scripts / nodes":
			return "%d / %d" % [_at(s, "scripts/modules"), _at(s, "scripts/instances")]
		"Lua/Waiting in await":
			return str(_at(s, "tasks/waiting"))
		"Pools/Names":
			var lookups: int = _at(s, "names/hits") + _at(s, "names/misses")
			return "%d (%s hits)" % [
					_at(s, "names/interned"), _percent(_ratio(_at(s, "names/hits"), lookups))]
		"Pools/Object reuse":
			return _percent(_at(s, "pool/reuse_rate")) if _has(s, "pool/reuse_rate") else "n/a"
		"Expressions/Hit rate":
			return _percent(_at(s, "expressions/hit_rate")) if _has(s, "expressions") else "n/a"
		"Expressions/Invalidations":
			return str(_at(s, "expressions/invalidations")) if _has(s, "expressions") else "n/a"
		"Queries/Hit rate":
			return "%s of %d" % [_percent(_at(s, "queries/hit_rate")), _at(s, "queries/queries")]
		"Queries/Invalidations":
			return str(_at(s, "queries/invalidations"))
		"Queries/Events (handlers run)":
			return "%d (%d)" % [_at(s, "events/emitted"), _at(s, "events/delivered")]
		"Hot reload/Reloads":
			return "%d (%d failed)" % [_at(s, "reload/reloads"), _at(s, "reload/failures")]
		"Hot reload/p50 / p95":
			return "%.1f / %.1f ms" % [_at(s, "reload/p50_ms"), _at(s, "reload/p95_ms")]
		"Lua/Script errors":
			return "%d (%d shown)" % [_at(s, "errors/total"), _at(s, "errors/reported")]
	return ""


static func _at(stats: Dictionary, path: String, default: Variant = 0) -> Variant:
	var value: Variant = stats
	for key in path.split("/"):
		if not (value is Dictionary) or not value.has(key):
			return default
		value = value[key]
	return value


static func _has(stats: Dictionary, path: String) -> bool:
	return _at(stats, path, null) != null


static func _ratio(part: float, whole: float) -> float:
	return part / whole if whole > 0 else 0.0


static func _percent(fraction: float) -> String:
	return "%.1f %%" % (fraction * 100.0)


static func _bytes(n: int) -> String:
	if n < 1024:
		return "%d B" % n
	if n < 1048576:
		return "%.1f KiB" % (n / 1024.0)
	return "%.1f MiB" % (n / 1048576.0)


static func _micros(us: int) -> String:
	if us < 1000:
		return "%d us" % us
	if us < 1000000:
		return "%.1f ms" % (us / 1000.0)
	return "%.2f s" % (us / 1000000.0)
