//! `${NAME}` and `${NAME:-default}` expansion in configuration text; `$${` writes a literal `${`.

/// Expands variables with `lookup`; an unset variable without a default is an error naming it
/// and its line.
pub fn expand_env(text: &str, lookup: impl Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos..];
        if let Some(tail) = after.strip_prefix("$${") {
            out.push_str("${");
            rest = tail;
            continue;
        }
        if !after.starts_with("${") {
            out.push('$');
            rest = &after[1..];
            continue;
        }
        let line = text[..text.len() - after.len()].matches('\n').count() + 1;
        let Some(end) = after.find('}') else {
            return Err(format!("line {line}: `${{` is not closed; write ${{NAME}}"));
        };
        let inner = &after[2..end];
        let (name, default) = match inner.split_once(":-") {
            Some((n, d)) => (n, Some(d)),
            None => (inner, None),
        };
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(format!(
                "line {line}: `${{{inner}}}` is not a variable name (letters, digits and _)"
            ));
        }
        match (lookup(name), default) {
            (Some(v), _) => out.push_str(&v),
            (None, Some(d)) => out.push_str(d),
            (None, None) => {
                return Err(format!(
                    "line {line}: environment variable {name} is not set; set it, or write ${{{name}:-default}}"
                ));
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(k: &str) -> Option<String> {
        (k == "HOST").then(|| "gis.example.it".to_string())
    }

    #[test]
    fn expands_defaults_and_escapes() {
        assert_eq!(
            expand_env("a=${HOST} b=${PORT:-80} c=$${HOST} d=$5", env).unwrap(),
            "a=gis.example.it b=80 c=${HOST} d=$5"
        );
    }

    #[test]
    fn missing_variable_names_it_and_the_line() {
        let e = expand_env("x = 1\ny = \"${DB_URL}\"", env).unwrap_err();
        assert!(e.contains("DB_URL") && e.contains("line 2"), "{e}");
        assert!(expand_env("${bad name}", env).is_err());
        assert!(expand_env("${OPEN", env).is_err());
    }
}
