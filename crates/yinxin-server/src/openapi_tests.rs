//! The OpenAPI document matches the router.
