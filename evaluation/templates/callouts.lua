-- Quarto-style callouts (::: {.callout-note title="…"}) for plain pandoc.
-- HTML: <div class="callout callout-note"><div class="callout-title">…</div><div class="callout-body">…</div></div>
-- Typst: #callout(kind: "note", title: "…")[…], defined in report.typst.
-- A leading heading inside the callout is its title (as in Quarto); otherwise a Danish default.

local default_titles = {
  note = "Bemærk",
  tip = "Tip",
  warning = "Advarsel",
  important = "Vigtigt",
  caution = "Forsigtig",
}

local function typst_string(s)
  return '"' .. s:gsub('\\', '\\\\'):gsub('"', '\\"') .. '"'
end

function Div(el)
  local kind = nil
  for _, c in ipairs(el.classes) do
    local k = c:match("^callout%-(%a+)$")
    if k then kind = k end
  end
  if kind == nil then
    return nil
  end
  local content = el.content
  local title = el.attributes["title"]
  if title == nil and #content > 0 and content[1].t == "Header" then
    title = pandoc.utils.stringify(content[1])
    content = pandoc.List({table.unpack(content, 2)})
  end
  if title == nil or title == "" then
    title = default_titles[kind] or "Bemærk"
  end
  if FORMAT:match("typst") then
    local blocks = pandoc.List({
      pandoc.RawBlock("typst", "#callout(kind: " .. typst_string(kind) .. ", title: " .. typst_string(title) .. ")["),
    })
    blocks:extend(content)
    blocks:insert(pandoc.RawBlock("typst", "]"))
    return blocks
  end
  local head = pandoc.Div({ pandoc.Plain({ pandoc.Str(title) }) }, pandoc.Attr("", { "callout-title" }))
  local body = pandoc.Div(content, pandoc.Attr("", { "callout-body" }))
  return pandoc.Div({ head, body }, pandoc.Attr(el.identifier, { "callout", "callout-" .. kind }, {}))
end

-- Typst reads "1. " (and "- ", "+ ", "= ") at the start of a table cell or paragraph as list or
-- heading markup; pandoc does not escape it inside table cells, so a Danish date such as
-- "1. marts 2010" in a table would turn into a numbered list. Escape the marker.
local function escape_leading_marker(el)
  if not FORMAT:match("typst") then
    return nil
  end
  local first, second = el.content[1], el.content[2]
  if first and first.t == "Str" and (second == nil or second.t == "Space" or second.t == "SoftBreak") then
    local num = first.text:match("^(%d+)%.$")
    if num then
      el.content[1] = pandoc.RawInline("typst", num .. "\\.")
      return el
    end
    if first.text == "-" or first.text == "+" or first.text:match("^=+$") then
      el.content[1] = pandoc.RawInline("typst", "\\" .. first.text)
      return el
    end
  end
  return nil
end

Plain = escape_leading_marker
Para = escape_leading_marker
