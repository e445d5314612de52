//! "did you mean" suggestions by edit distance.

/// The candidate closest to `word`, if it is close enough to be a likely typo.
pub fn did_you_mean<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Edits (insert, delete, substitute, swap two neighbours) that turn `a`
/// into `b`: the optimal string alignment distance, so `rleu` is one edit
/// from `relu`.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let acts = ["relu", "tanh", "sigmoid", "softmax", "leaky_relu"];
        assert_eq!(did_you_mean("rleu", acts.iter().copied()), Some("relu"));
        assert_eq!(
            did_you_mean("sigmod", acts.iter().copied()),
            Some("sigmoid")
        );
        assert_eq!(
            did_you_mean("leakyrelu", acts.iter().copied()),
            Some("leaky_relu")
        );
        assert_eq!(did_you_mean("conv", acts.iter().copied()), None);
        assert_eq!(did_you_mean("desne", ["dense"].into_iter()), Some("dense"));
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("rleu", "relu"), 1);
    }
}
