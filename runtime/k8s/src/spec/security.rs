//! The security contexts of the pods Weft makes (run, step and ops' external Jobs) when
//! weft.yaml's `k8s:` sets none: what Pod Security Admission's `restricted` level asks for
//! — never root (the image's user, 65532), no privilege escalation, every capability
//! dropped, the runtime's default seccomp profile — so that they are admitted into a
//! namespace that enforces it, and a guest's code runs with no right it was not given.
//! Pure.

use k8s_openapi::api::core::v1::{
    Capabilities, PodSecurityContext, SeccompProfile, SecurityContext,
};

/// The user and group of Weft's image (deploy/Dockerfile's `USER`).
pub const IMAGE_USER: i64 = 65532;

/// The pods' security context when weft.yaml sets no `pod_security_context`.
pub fn pod_default() -> PodSecurityContext {
    PodSecurityContext {
        run_as_non_root: Some(true),
        run_as_user: Some(IMAGE_USER),
        run_as_group: Some(IMAGE_USER),
        seccomp_profile: Some(SeccompProfile {
            type_: "RuntimeDefault".into(),
            localhost_profile: None,
        }),
        ..PodSecurityContext::default()
    }
}

/// The containers' security context when weft.yaml sets no `security_context`.
pub fn container_default() -> SecurityContext {
    SecurityContext {
        allow_privilege_escalation: Some(false),
        privileged: Some(false),
        run_as_non_root: Some(true),
        capabilities: Some(Capabilities {
            drop: Some(vec!["ALL".into()]),
            add: None,
        }),
        ..SecurityContext::default()
    }
}
