-- A script queries find by path (`query.by_script`); it does nothing else.
return {
  kind = "tagged",
}
