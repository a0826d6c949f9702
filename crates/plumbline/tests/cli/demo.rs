//! `plumbline demo --seed-only`: the README's main command seeds three projects with
//! gold, six accounts with freshly generated passwords and some judgments.

use crate::support::Env;

fn accounts(stdout: &str) -> Vec<(String, String)> {
    stdout
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let (name, pw) = (w.next()?, w.next()?);
            (pw.len() == 18 && pw.chars().all(|c| c.is_ascii_hexdigit()))
                .then(|| (name.to_owned(), pw.to_owned()))
        })
        .collect()
}

#[test]
fn demo_seeds_projects_people_and_judgments_with_fresh_passwords() {
    let env = Env::sqlite();
    let first = env.run(&["demo", "--data", "one", "--seed-only"]).ok();
    let people = accounts(&first.stdout);
    let names: Vec<&str> = people.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["admin", "lead", "reviewer", "ada", "ben", "chloe"],
        "{}",
        first.stdout
    );
    assert!(
        first.stdout.contains("Open http://127.0.0.1:7433/"),
        "{}",
        first.stdout
    );
    for project in ["banking", "clinical", "insurance"] {
        assert!(
            first.stderr.contains(&format!("project {project}")),
            "{}",
            first.stderr
        );
    }
    assert!(
        first.stderr.contains("demo judgments by ada and ben"),
        "{}",
        first.stderr
    );

    // Another demo: other passwords.
    let second = env.run(&["demo", "--data", "two", "--seed-only"]).ok();
    let again = accounts(&second.stdout);
    assert_eq!(again.len(), 6);
    assert!(
        people.iter().zip(&again).all(|(a, b)| a.1 != b.1),
        "passwords repeat"
    );

    // Seeding the same directory again changes nothing and fails nothing.
    let third = env.run(&["demo", "--data", "one", "--seed-only"]).ok();
    assert!(third.stderr.contains("exists already"), "{}", third.stderr);
}
