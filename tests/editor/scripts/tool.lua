tool_version = 1
return {}
