//! The step queue on both databases: attempts queued, claimed by workers (never one attempt
//! by two, even when they claim at once), kept alive, answered, and given up.

use super::Fresh;

pub(crate) async fn steps_are_claimed_once_answered_and_given_up(db: Fresh) {
    let store = db.open().await;
    for (i, step) in ["a", "b", "c", "d", "e"].into_iter().enumerate() {
        let at = 1_000 + i64::try_from(i).expect("small");
        store.enqueue_step("r1", step, 1, at).await.expect("queue");
    }
    // Queuing again changes nothing.
    store
        .enqueue_step("r1", "a", 1, 9_000)
        .await
        .expect("again");

    let first = store.claim_steps("w1", 2, 2_000).await.expect("claim");
    let keys = |tasks: &[weft_store::StepTask]| {
        tasks.iter().map(|t| t.step_key.clone()).collect::<Vec<_>>()
    };
    assert_eq!(keys(&first), ["a", "b"], "oldest first");
    assert!(first.iter().all(|t| t.state == "CLAIMED"
        && t.worker.as_deref() == Some("w1")
        && t.heartbeat_ms == Some(2_000)));

    // Two workers claiming at once take different attempts, and together all of them.
    let other = db.open().await;
    let (x, y) = tokio::join!(
        store.claim_steps("w2", 2, 2_100),
        other.claim_steps("w3", 2, 2_100)
    );
    let (x, y) = (x.expect("w2"), y.expect("w3"));
    let mut taken = [keys(&x), keys(&y)].concat();
    taken.sort();
    assert_eq!(taken, ["c", "d", "e"], "w2 took {x:?}, w3 took {y:?}");
    assert!(
        store
            .claim_steps("w4", 5, 2_200)
            .await
            .expect("empty")
            .is_empty()
    );

    store.renew_step_claims("w1", 3_000).await.expect("beat");
    let a = store
        .step_task("r1", "a", 1)
        .await
        .expect("read")
        .expect("there");
    assert_eq!((a.state.as_str(), a.heartbeat_ms), ("CLAIMED", Some(3_000)));

    store
        .answer_step("r1", "a", 1, r#"{"answer":1}"#, 3_100)
        .await
        .expect("answer");
    let a = store
        .step_task("r1", "a", 1)
        .await
        .expect("read")
        .expect("there");
    assert_eq!(a.state, "DONE");
    assert_eq!(a.answer.as_deref(), Some(r#"{"answer":1}"#));
    assert!(!store.give_up_step("r1", "a", 1).await.expect("answered"));

    // A silent worker's attempt is given up; its late answer changes nothing.
    assert!(store.give_up_step("r1", "b", 1).await.expect("give up"));
    store
        .answer_step("r1", "b", 1, "{}", 4_000)
        .await
        .expect("late answer");
    let b = store
        .step_task("r1", "b", 1)
        .await
        .expect("read")
        .expect("there");
    assert_eq!((b.state.as_str(), b.answer), ("LOST", None));

    // A step's pod answers an attempt nobody queued.
    store
        .answer_step("r2", "solo", 3, r#"{"x":2}"#, 5_000)
        .await
        .expect("pod answer");
    let solo = store
        .step_task("r2", "solo", 3)
        .await
        .expect("read")
        .expect("there");
    assert_eq!((solo.state.as_str(), solo.attempt), ("DONE", 3));
    assert!(
        store
            .step_task("r2", "solo", 4)
            .await
            .expect("read")
            .is_none()
    );
}
