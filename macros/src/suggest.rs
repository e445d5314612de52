//! "did you mean" suggestions by edit distance.

/// The candidate closest to `word`, if it is close enough to be a likely typo.
pub fn did_you_mean<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .map(|c| (levenshtein(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (diagonal + usize::from(ca != *cb)).min(row[j] + 1).min(row[j + 1] + 1);
            diagonal = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let acts = ["relu", "tanh", "sigmoid", "softmax", "leaky_relu"];
        assert_eq!(did_you_mean("rleu", acts.iter().copied()), Some("relu"));
        assert_eq!(did_you_mean("sigmod", acts.iter().copied()), Some("sigmoid"));
        assert_eq!(did_you_mean("leakyrelu", acts.iter().copied()), Some("leaky_relu"));
        assert_eq!(did_you_mean("conv", acts.iter().copied()), None);
        assert_eq!(levenshtein("kitten", "sitting"), 3);
    }
}
