/** Names of classes, packages and methods: safe in URLs and ids. */
export const NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]{0,99}$/;
export const PACKAGE_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$/;
