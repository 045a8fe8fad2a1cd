-- Quarto-style callouts (::: {.callout-note title="…"}) for plain pandoc.
-- HTML: <div class="callout callout-note"><div class="callout-title">…</div><div class="callout-body">…</div></div>
-- Typst: #callout(kind: "note", title: "…")[…], defined in report.typst.
-- A leading heading inside the callout is its title (as in Quarto); otherwise a Danish default.

local default_titles = {
  summary = "Kort fortalt",
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
    if el.identifier ~= "" then
      -- keep the id on a plain wrapper, so the block can be moved above the contents (see Pandoc below)
      return pandoc.Div(blocks, pandoc.Attr(el.identifier, { "moved-wrapper" }, {}))
    end
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

-- HTML: every table sits in a horizontally scrolling wrapper, so a wide table scrolls inside the
-- text column on a phone instead of being clipped or widening the page.
local function wrap_table(el)
  if FORMAT:match("html") then
    -- attributes as an ordered list of pairs: a Lua table's key order is not fixed, the HTML must be
    return pandoc.Div({ el }, pandoc.Attr("", { "table-wrap" }, { { "role", "region" }, { "tabindex", "0" } }))
  end
  return nil
end

-- The synthetic-data banner and the summary box go above the table of contents: the first screen
-- shows what the report found and what it rests on. They are moved into the template variable
-- before-toc (report.html / report.typst print it between the title and the contents).
local before_toc_ids = { ["syntetiske-data"] = 1, ["kort-fortalt"] = 2 }

local function move_before_toc(doc)
  local moved, kept = {}, pandoc.List()
  for _, block in ipairs(doc.blocks) do
    local rank = block.t == "Div" and before_toc_ids[block.identifier] or nil
    if rank then
      local inner = block
      if block.classes:includes("moved-wrapper") then
        inner = pandoc.Div(block.content, pandoc.Attr(block.identifier, { "before-toc-block" }, {}))
      end
      table.insert(moved, { rank, inner })
    else
      kept:insert(block)
    end
  end
  if #moved == 0 then
    return nil
  end
  table.sort(moved, function(a, b) return a[1] < b[1] end)
  local blocks = pandoc.List()
  for _, m in ipairs(moved) do
    blocks:insert(m[2])
  end
  doc.meta["before-toc"] = pandoc.MetaBlocks(blocks)
  doc.blocks = kept
  return doc
end

-- Typst: a figure saved both as PNG (for the web page) and as PDF (text kept as text) is typeset from the PDF.
local function pdf_figure(el)
  if not FORMAT:match("typst") then
    return nil
  end
  local pdf = el.src:gsub("%.png$", ".pdf")
  if pdf ~= el.src then
    local fh = io.open(pdf, "r")
    if fh then
      fh:close()
      el.src = pdf
      return el
    end
  end
  return nil
end

return {
  { Div = Div, Plain = Plain, Para = Para, Image = pdf_figure },
  { Table = wrap_table },
  { Pandoc = move_before_toc },
}
