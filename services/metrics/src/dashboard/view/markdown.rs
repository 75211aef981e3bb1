//! Stored markdown (an audit's report, a weekly summary, which may come from
//! an LLM) as blocks the templates draw: a small, safe subset. Headings,
//! paragraphs, `-`/`*` lists, `|` tables, `**strong**` and `` `code` ``; any
//! other markup (HTML included) stays text, which the template escapes like
//! every value. Nothing here produces HTML, so nothing can inject it. Pure.

/// A run of text, plain, strong or code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    /// The text, as written (escaped by the template).
    pub text: String,
    /// Between `**`.
    pub strong: bool,
    /// Between backticks.
    pub code: bool,
}

/// One block of the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// `h3`..`h6`, `p`, `ul` or `table`.
    pub kind: &'static str,
    /// A heading's or a paragraph's text.
    pub spans: Vec<Span>,
    /// A list's items.
    pub items: Vec<Vec<Span>>,
    /// A table's header cells.
    pub header: Vec<Vec<Span>>,
    /// A table's rows of cells.
    pub rows: Vec<Vec<Vec<Span>>>,
}

impl Block {
    fn new(kind: &'static str) -> Self {
        Self {
            kind,
            spans: Vec::new(),
            items: Vec::new(),
            header: Vec::new(),
            rows: Vec::new(),
        }
    }
}

/// `text`'s inline markup: `**strong**` and `` `code` `` (unclosed markers
/// stay text).
pub fn inline(text: &str) -> Vec<Span> {
    let mut spans = Vec::new();
    let mut rest = text;
    let push = |spans: &mut Vec<Span>, text: &str, strong: bool, code: bool| {
        if !text.is_empty() {
            spans.push(Span {
                text: text.to_owned(),
                strong,
                code,
            });
        }
    };
    loop {
        let next = [("**", true), ("`", false)]
            .into_iter()
            .filter_map(|(m, strong)| {
                let start = rest.find(m)?;
                let end = rest[start + m.len()..].find(m)? + start + m.len();
                Some((start, end, m.len(), strong))
            })
            .min_by_key(|(start, ..)| *start);
        let Some((start, end, len, strong)) = next else {
            push(&mut spans, rest, false, false);
            return spans;
        };
        push(&mut spans, &rest[..start], false, false);
        push(&mut spans, &rest[start + len..end], strong, !strong);
        rest = &rest[end + len..];
    }
}

/// A table line's cells (`\|` is a bar inside a cell).
fn cells(line: &str) -> Vec<Vec<Span>> {
    let inner = line.trim().trim_start_matches('|');
    let inner = inner.strip_suffix('|').unwrap_or(inner);
    let mut out = Vec::new();
    let mut cell = String::new();
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                cell.push('|');
                chars.next();
            }
            '|' => out.push(inline(std::mem::take(&mut cell).trim())),
            c => cell.push(c),
        }
    }
    out.push(inline(cell.trim()));
    out
}

/// Whether a table line is the `| --- | ---: |` line under the header.
fn separator(line: &str) -> bool {
    line.trim()
        .chars()
        .all(|c| matches!(c, '|' | '-' | ':' | ' '))
}

/// `markdown` as blocks; headings start at `h3` (a page's panel is `h2`).
pub fn blocks(markdown: &str) -> Vec<Block> {
    let mut out: Vec<Block> = Vec::new();
    let mut paragraph: Vec<&str> = Vec::new();
    let flush = |out: &mut Vec<Block>, paragraph: &mut Vec<&str>| {
        if !paragraph.is_empty() {
            let mut p = Block::new("p");
            p.spans = inline(&paragraph.join(" "));
            out.push(p);
            paragraph.clear();
        }
    };
    for raw in markdown.lines() {
        let line = raw.trim();
        let hashes = line.chars().take_while(|c| *c == '#').count();
        if line.is_empty() {
            flush(&mut out, &mut paragraph);
        } else if (1..=6).contains(&hashes) && line[hashes..].starts_with(' ') {
            flush(&mut out, &mut paragraph);
            let mut h = Block::new(["h3", "h4", "h5", "h6"][(hashes - 1).min(3)]);
            h.spans = inline(line[hashes..].trim());
            out.push(h);
        } else if let Some(item) = line.strip_prefix("- ").or_else(|| line.strip_prefix("* ")) {
            flush(&mut out, &mut paragraph);
            match out.last_mut() {
                Some(b) if b.kind == "ul" => b.items.push(inline(item.trim())),
                _ => {
                    let mut ul = Block::new("ul");
                    ul.items.push(inline(item.trim()));
                    out.push(ul);
                }
            }
        } else if line.starts_with('|') {
            flush(&mut out, &mut paragraph);
            match out.last_mut() {
                Some(t) if t.kind == "table" => {
                    if !(t.rows.is_empty() && separator(line)) {
                        t.rows.push(cells(line));
                    }
                }
                _ => {
                    let mut t = Block::new("table");
                    t.header = cells(line);
                    out.push(t);
                }
            }
        } else {
            paragraph.push(line);
        }
    }
    flush(&mut out, &mut paragraph);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(spans: &[Span]) -> Vec<(&str, bool, bool)> {
        spans
            .iter()
            .map(|s| (s.text.as_str(), s.strong, s.code))
            .collect()
    }

    #[test]
    fn inline_markup_is_strong_or_code_and_anything_else_stays_text() {
        assert_eq!(
            texts(&inline(
                "Verdict **PASS**: run `growthctl audit` <b>now</b>"
            )),
            [
                ("Verdict ", false, false),
                ("PASS", true, false),
                (": run ", false, false),
                ("growthctl audit", false, true),
                (" <b>now</b>", false, false),
            ]
        );
        assert_eq!(texts(&inline("a ** b")), [("a ** b", false, false)]);
    }

    #[test]
    fn an_audit_report_becomes_headings_lists_tables_and_paragraphs() {
        let md = "# Revenue audit 2025-03: PASS\n\n## Executive summary\n\nVerdict **PASS**: 0 finding(s).\n- USD: net 10 in Stripe\n- EUR: net 0\n\n| currency | rows |\n| --- | ---: |\n| usd | 3 |\n| a \\| b | <script> |\n\nNothing to do.\n";
        let b = blocks(md);
        let kinds: Vec<&str> = b.iter().map(|b| b.kind).collect();
        assert_eq!(kinds, ["h3", "h4", "p", "ul", "table", "p"]);
        assert_eq!(b[3].items.len(), 2);
        assert_eq!(b[4].header.len(), 2);
        assert_eq!(b[4].rows.len(), 2, "the separator line is not a row");
        assert_eq!(b[4].rows[1][0][0].text, "a | b");
        assert_eq!(
            b[4].rows[1][1][0].text, "<script>",
            "text, escaped by the template"
        );
    }
}
