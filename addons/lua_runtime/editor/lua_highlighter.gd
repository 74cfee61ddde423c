@tool
extends EditorSyntaxHighlighter
## Lua syntax highlighting for .lua files in Godot's script editor, in the colours of the
## editor theme.

const KEYWORDS := ["local", "function", "end", "nil", "true", "false", "and", "or", "not",
		"self", "goto"]
const CONTROL_FLOW := ["if", "then", "else", "elseif", "for", "in", "do", "while", "repeat",
		"until", "return", "break"]

var _colors := {}
## For each line, whether it starts inside a long comment or string (`--[[`, `[[`), and the
## closing bracket it waits for. Filled on demand, emptied when the text changes.
var _opens_inside: Array = []


func _get_name() -> String:
	return "Lua"


func _get_supported_languages() -> PackedStringArray:
	return PackedStringArray(["lua"])


func _create() -> EditorSyntaxHighlighter:
	return get_script().new()


func _clear_highlighting_cache() -> void:
	_opens_inside.clear()
	var settings := EditorInterface.get_editor_settings()
	for key in ["keyword_color", "control_flow_keyword_color", "comment_color", "string_color",
			"number_color", "symbol_color", "text_color", "function_color", "member_variable_color"]:
		_colors[key] = settings.get_setting("text_editor/theme/highlighting/" + key)


func _get_line_syntax_highlighting(line: int) -> Dictionary:
	if _colors.is_empty():
		_clear_highlighting_cache()
	var text := get_text_edit().get_line(line)
	var result := {}
	var closing: String = _state_at(line)
	var i := 0
	if closing != "":
		var bracket := closing.trim_prefix("--")
		var is_comment := closing.begins_with("--")
		result[0] = {"color": _colors.comment_color if is_comment else _colors.string_color}
		var end := text.find(bracket)
		if end == -1:
			return result
		i = end + bracket.length()
		result[i] = {"color": _colors.text_color}
	_scan(text, i, result)
	return result


## Colours `text` from column `from` on, and returns the long bracket left open at its end
## ("" for none; "--]]" style for a comment, "]]" style for a string).
func _scan(text: String, from: int, result: Dictionary) -> String:
	var i := from
	var n := text.length()
	while i < n:
		var c := text[i]
		if c == "-" and text.substr(i, 2) == "--":
			var level := _long_bracket_level(text, i + 2)
			result[i] = {"color": _colors.comment_color}
			if level >= 0:
				var close := "]" + "=".repeat(level) + "]"
				var end := text.find(close, i + 4 + level)
				if end == -1:
					return "--" + close
				i = end + close.length()
				result[i] = {"color": _colors.text_color}
				continue
			return ""
		if c == "\"" or c == "'":
			result[i] = {"color": _colors.string_color}
			var j := i + 1
			while j < n and text[j] != c:
				j += 2 if text[j] == "\\" else 1
			i = mini(j + 1, n)
			result[i] = {"color": _colors.text_color}
			continue
		if c == "[":
			var level := _long_bracket_level(text, i)
			if level >= 0:
				var close := "]" + "=".repeat(level) + "]"
				result[i] = {"color": _colors.string_color}
				var end := text.find(close, i + 2 + level)
				if end == -1:
					return close
				i = end + close.length()
				result[i] = {"color": _colors.text_color}
				continue
		if _is_digit(c) or (c == "." and i + 1 < n and _is_digit(text[i + 1])):
			var j := i + 1
			while j < n and (_is_word(text[j]) or text[j] == "."):
				j += 1
			result[i] = {"color": _colors.number_color}
			i = j
			result[i] = {"color": _colors.text_color}
			continue
		if _is_word(c):
			var j := i + 1
			while j < n and _is_word(text[j]):
				j += 1
			var word := text.substr(i, j - i)
			var color: Color = _colors.text_color
			if word in CONTROL_FLOW:
				color = _colors.control_flow_keyword_color
			elif word in KEYWORDS:
				color = _colors.keyword_color
			elif j < n and (text[j] == "(" or text[j] == "{" or text[j] == "\""):
				color = _colors.function_color
			elif i > 0 and (text[i - 1] == "." or text[i - 1] == ":"):
				color = _colors.member_variable_color
			result[i] = {"color": color}
			i = j
			result[i] = {"color": _colors.text_color}
			continue
		if "+-*/%^#=~<>(){}[];:,.".contains(c):
			result[i] = {"color": _colors.symbol_color}
			result[i + 1] = {"color": _colors.text_color}
		i += 1
	return ""


## The long bracket left open before `line` ("" when none), from the lines above.
func _state_at(line: int) -> String:
	var text_edit := get_text_edit()
	while _opens_inside.size() <= line:
		var at := _opens_inside.size()
		if at == 0:
			_opens_inside.append("")
			continue
		var previous: String = _opens_inside[at - 1]
		var text := text_edit.get_line(at - 1)
		var start := 0
		if previous != "":
			var bracket := previous.trim_prefix("--")
			var end := text.find(bracket)
			if end == -1:
				_opens_inside.append(previous)
				continue
			start = end + bracket.length()
		_opens_inside.append(_scan(text, start, {}))
	return _opens_inside[line]


## `[[` is level 0, `[=[` level 1, ...; -1 when `text` has no long bracket at `at`.
static func _long_bracket_level(text: String, at: int) -> int:
	if at >= text.length() or text[at] != "[":
		return -1
	var j := at + 1
	while j < text.length() and text[j] == "=":
		j += 1
	return j - at - 1 if j < text.length() and text[j] == "[" else -1


static func _is_digit(c: String) -> bool:
	return c >= "0" and c <= "9"


static func _is_word(c: String) -> bool:
	return c == "_" or (c >= "a" and c <= "z") or (c >= "A" and c <= "Z") or _is_digit(c)
