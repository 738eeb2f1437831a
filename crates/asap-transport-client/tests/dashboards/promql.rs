//! Just enough PromQL for the checks: the metric names an expression reads, the dashboard
//! variables it uses, and the expression with those variables replaced by values a query
//! API accepts.

/// Grafana's own variables and what a check substitutes for them: the scrape interval of
/// the test Prometheus is 1 s, so a 5 s rate window holds several samples.
pub(crate) const BUILT_IN: [(&str, &str); 3] = [
    ("__rate_interval", "5s"),
    ("__interval", "1s"),
    ("__range", "1m"),
];

/// Words of the language that are neither functions nor metrics.
const KEYWORDS: [&str; 11] = [
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "and",
    "or",
    "unless",
    "offset",
];

/// Aggregation operators, which may have their `by (…)` clause before their argument.
const AGGREGATIONS: [&str; 12] = [
    "sum",
    "min",
    "max",
    "avg",
    "group",
    "stddev",
    "stdvar",
    "count",
    "count_values",
    "bottomk",
    "topk",
    "quantile",
];

/// Keywords followed by a parenthesised list of label names.
const LABEL_LISTS: [&str; 6] = [
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
];

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == ':'
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == ':'
}

/// The index after the string literal that starts at `start` (a quote).
fn skip_string(chars: &[char], start: usize) -> usize {
    let quote = chars[start];
    let mut i = start + 1;
    while i < chars.len() && chars[i] != quote {
        if chars[i] == '\\' {
            i += 1;
        }
        i += 1;
    }
    i + 1
}

/// The index after the bracket opened at `start`, skipping string literals inside.
fn skip_group(chars: &[char], start: usize, close: char) -> usize {
    let mut i = start + 1;
    while i < chars.len() && chars[i] != close {
        if chars[i] == '"' || chars[i] == '\'' || chars[i] == '`' {
            i = skip_string(chars, i);
        } else {
            i += 1;
        }
    }
    i + 1
}

fn next_non_space(chars: &[char], mut i: usize) -> Option<char> {
    while i < chars.len() && chars[i].is_whitespace() {
        i += 1;
    }
    chars.get(i).copied()
}

/// The metric names `expr` selects, in order of appearance (duplicates kept out).
///
/// Label matchers (`{…}`), ranges (`[…]`), string literals, the label lists of `by`,
/// `without`, `on`, `ignoring` and `group_*`, keywords, numbers, aggregation operators and
/// function names (an identifier followed by `(`) are skipped; every other identifier is a
/// metric name.
pub(crate) fn metric_names(expr: &str) -> Vec<String> {
    let chars: Vec<char> = expr.chars().collect();
    let mut names = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '"' || c == '\'' || c == '`' {
            i = skip_string(&chars, i);
        } else if c == '{' {
            i = skip_group(&chars, i, '}');
        } else if c == '[' {
            i = skip_group(&chars, i, ']');
        } else if c == '$' {
            // A dashboard variable: `$name` or `${name}`.
            i += 1;
            if chars.get(i) == Some(&'{') {
                i = skip_group(&chars, i, '}');
            } else {
                while i < chars.len() && is_ident(chars[i]) {
                    i += 1;
                }
            }
        } else if c.is_ascii_digit() || c == '.' {
            // Numbers and durations (`0.99`, `1e3`, `5m`).
            while i < chars.len() && (is_ident(chars[i]) || chars[i] == '.') {
                i += 1;
            }
        } else if is_ident_start(c) {
            let start = i;
            while i < chars.len() && is_ident(chars[i]) {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let followed_by_paren = next_non_space(&chars, i) == Some('(');
            if LABEL_LISTS.contains(&word.as_str()) && followed_by_paren {
                while chars[i] != '(' {
                    i += 1;
                }
                i = skip_group(&chars, i, ')');
            } else if KEYWORDS.contains(&word.as_str())
                || AGGREGATIONS.contains(&word.as_str())
                || followed_by_paren
                || word == "Inf"
                || word == "NaN"
            {
                // A keyword or a function.
            } else if !names.contains(&word) {
                names.push(word);
            }
        } else {
            i += 1;
        }
    }
    names
}

/// The dashboard variables `text` refers to (`$name`, `${name}`, `${name:format}`,
/// `[[name]]`), in order of appearance, each once.
pub(crate) fn variables(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let name = if chars[i] == '$' && chars.get(i + 1) == Some(&'{') {
            let end = skip_group(&chars, i + 1, '}');
            let inner: String = chars[i + 2..end.saturating_sub(1).max(i + 2)]
                .iter()
                .collect();
            i = end;
            inner.split(':').next().unwrap_or_default().to_owned()
        } else if chars[i] == '$' {
            let start = i + 1;
            i = start;
            while i < chars.len() && is_ident(chars[i]) {
                i += 1;
            }
            chars[start..i].iter().collect()
        } else if chars[i] == '[' && chars.get(i + 1) == Some(&'[') {
            let end = skip_group(&chars, i + 1, ']');
            let inner: String = chars[i + 2..end.saturating_sub(1).max(i + 2)]
                .iter()
                .collect();
            i = end + 1;
            inner
        } else {
            i += 1;
            continue;
        };
        if !name.is_empty() && !found.contains(&name) {
            found.push(name);
        }
    }
    found
}

/// Whether `name` is one of Grafana's own variables that a check substitutes.
pub(crate) fn is_built_in(name: &str) -> bool {
    BUILT_IN.iter().any(|(built_in, _)| *built_in == name)
}

/// `expr` as Grafana would send it with every agent, job, peer… selected: the built-in
/// intervals replaced by [`BUILT_IN`] and each other variable (always used as
/// `=~"$name"`, which the model check enforces) by `.*`.
pub(crate) fn substitute(expr: &str) -> String {
    let mut out = expr.to_owned();
    for name in variables(expr) {
        let value = BUILT_IN
            .iter()
            .find(|(built_in, _)| *built_in == name)
            .map_or(".*", |(_, value)| *value);
        out = out
            .replace(&format!("${{{name}}}"), value)
            .replace(&format!("${name}"), value);
    }
    out
}

/// The selector and label of a `label_values(selector, label)` variable query.
pub(crate) fn label_values(query: &str) -> Option<(&str, &str)> {
    let inner = query
        .trim()
        .strip_prefix("label_values(")?
        .strip_suffix(')')?;
    let (selector, label) = inner.rsplit_once(',')?;
    Some((selector.trim(), label.trim()))
}

#[test]
fn reads_metric_names_and_variables() {
    let expr = r#"histogram_quantile(0.99, sum by (le, peer) (rate(asap_x_bucket{job=~"$job", peer=~"${peer}"}[$__rate_interval])))
/ on (peer) group_left sum without (instance) (asap_y_total offset 5m) or vector(0) > bool 1e3"#;
    assert_eq!(metric_names(expr), ["asap_x_bucket", "asap_y_total"]);
    assert_eq!(variables(expr), ["job", "peer", "__rate_interval"]);
    assert_eq!(
        substitute(r#"rate(a{i=~"$instance"}[$__rate_interval])"#),
        r#"rate(a{i=~".*"}[5s])"#
    );
    assert_eq!(
        label_values(r#"label_values(asap_build_info{job=~"$job"}, instance)"#),
        Some((r#"asap_build_info{job=~"$job"}"#, "instance"))
    );
}
