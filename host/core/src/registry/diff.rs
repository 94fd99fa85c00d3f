//! Line diffs between two template versions, so reviewers can see what changed before promoting one.

use std::time::Duration;

use serde::Serialize;
use similar::{ChangeTag, TextDiff};

/// How long a diff may search for the smallest edit before settling for a larger, still correct one.
const DIFF_TIMEOUT: Duration = Duration::from_secs(2);

/// Counts of inserted and deleted lines, for a summary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DiffStats {
    /// Lines present only in the new text.
    pub insertions: usize,
    /// Lines present only in the old text.
    pub deletions: usize,
}

/// A unified diff of two texts, git-style, with `context` lines of context.
///
/// Headers are `--- old_name` and `+++ new_name` (control characters in the names are escaped so
/// a name cannot forge diff lines); identical texts give an empty string. A last line without a
/// newline is followed by `\ No newline at end of file`.
pub fn unified(old_name: &str, new_name: &str, old: &str, new: &str, context: usize) -> String {
    if old == new {
        return String::new();
    }
    lines(old, new)
        .unified_diff()
        .context_radius(context)
        .missing_newline_hint(true)
        .header(&header_name(old_name), &header_name(new_name))
        .to_string()
}

/// Counts of inserted and deleted lines, for a summary.
pub fn stats(old: &str, new: &str) -> DiffStats {
    let mut stats = DiffStats::default();
    if old == new {
        return stats;
    }
    for change in lines(old, new).iter_all_changes() {
        match change.tag() {
            ChangeTag::Insert => stats.insertions += 1,
            ChangeTag::Delete => stats.deletions += 1,
            ChangeTag::Equal => {}
        }
    }
    stats
}

/// The line diff both functions share (`TextDiff::from_lines`, bounded in time).
fn lines<'a>(old: &'a str, new: &'a str) -> TextDiff<'a, 'a, 'a, str> {
    TextDiff::configure()
        .timeout(DIFF_TIMEOUT)
        .diff_lines(old, new)
}

/// A file name fit for a one-line header: control characters (newlines above all) are escaped.
fn header_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Diffs `old` against `new` with 1 line of context and compares with `expected`.
    fn check(old: &str, new: &str, expected: &str) {
        assert_eq!(
            unified("a", "b", old, new, 1),
            expected,
            "old {old:?}, new {new:?}"
        );
    }

    // One case a line: a table reads better than rustfmt's three-line calls.
    #[rustfmt::skip]
    #[test]
    fn unified_diffs() {
        check("", "", "");
        check("same\n", "same\n", "");
        check("no newline", "no newline", "");
        check("x\n", "y\n", "--- a\n+++ b\n@@ -1 +1 @@\n-x\n+y\n");
        check("", "new\n", "--- a\n+++ b\n@@ -0,0 +1 @@\n+new\n");
        check("old\n", "", "--- a\n+++ b\n@@ -1 +0,0 @@\n-old\n");
        check("1\n2\n3\n", "1\n3\n", "--- a\n+++ b\n@@ -1,3 +1,2 @@\n 1\n-2\n 3\n");
        check("1\n3\n", "1\n2\n3\n", "--- a\n+++ b\n@@ -1,2 +1,3 @@\n 1\n+2\n 3\n");
        check("1\n2\n3\n4\n5\n", "1\n2\nthree\n4\n5\n", "--- a\n+++ b\n@@ -2,3 +2,3 @@\n 2\n-3\n+three\n 4\n");
        check("a\nb", "a\nb\n", "--- a\n+++ b\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n");
        check("a\nb\n", "a\nb", "--- a\n+++ b\n@@ -1,2 +1,2 @@\n a\n-b\n+b\n\\ No newline at end of file\n");
        check("a\nb", "a\nc", "--- a\n+++ b\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n");
        check("x\r\ny\r\n", "x\r\nz\r\n", "--- a\n+++ b\n@@ -1,2 +1,2 @@\n x\r\n-y\r\n+z\r\n");
        check("1\n2\n3\n4\n5\n6\n7\n", "one\n2\n3\n4\n5\n6\nseven\n", "--- a\n+++ b\n@@ -1,2 +1,2 @@\n-1\n+one\n 2\n@@ -6,2 +6,2 @@\n 6\n-7\n+seven\n");
    }

    #[test]
    fn context_and_names() {
        let old = "1\n2\n3\n4\n5\n";
        let new = "1\n2\nthree\n4\n5\n";
        let cases = [
            (0, "@@ -3 +3 @@\n-3\n+three\n"),
            (1, "@@ -2,3 +2,3 @@\n 2\n-3\n+three\n 4\n"),
            (3, "@@ -1,5 +1,5 @@\n 1\n 2\n-3\n+three\n 4\n 5\n"),
            (100, "@@ -1,5 +1,5 @@\n 1\n 2\n-3\n+three\n 4\n 5\n"),
        ];
        for (context, hunks) in cases {
            let want = format!("--- greet@v1\n+++ greet@v2\n{hunks}");
            assert_eq!(
                unified("greet@v1", "greet@v2", old, new, context),
                want,
                "context {context}"
            );
        }
        assert_eq!(
            unified("x\n+++ forged", "y\r", "a\n", "b\n", 3),
            "--- x\\n+++ forged\n+++ y\\r\n@@ -1 +1 @@\n-a\n+b\n"
        );
    }

    #[test]
    fn stats_count_lines() {
        let cases = [
            ("", "", 0, 0),
            ("a\n", "a\n", 0, 0),
            ("", "a\nb\n", 2, 0),
            ("a\nb\n", "", 0, 2),
            ("a\nb\nc\n", "a\nB\nc\nd\n", 2, 1),
            ("a", "a\n", 1, 1),
            ("a\nb\n", "b\na\n", 1, 1),
        ];
        for (old, new, insertions, deletions) in cases {
            assert_eq!(
                stats(old, new),
                DiffStats {
                    insertions,
                    deletions
                },
                "old {old:?}, new {new:?}"
            );
        }
        assert_eq!(
            serde_json::to_value(stats("a\n", "b\nc\n")).expect("serialises"),
            serde_json::json!({"insertions": 2, "deletions": 1})
        );
    }
}
