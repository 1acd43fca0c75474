// Package containertest runs the cronrelay container image the way GitHub's
// runner runs a container action, and checks what a user of the action
// sees: deliveries at the app, the state branch in the repository, the
// step's outputs and summary.
//
// The tests need a built image and podman; .ci/container.sh builds the image
// from the unchanged Dockerfile and runs them with CRONRELAY_IMAGE set.
// Without it they skip, so `go test ./...` works on a laptop.
//
// The runner's part is emulated from its documented behaviour and its
// source (actions/runner, ContainerActionHandler): every input declared in
// action.yml arrives as INPUT_<NAME> (its default unless the step sets it),
// runs.args replace the image's CMD, the workspace is mounted at
// /github/workspace and is the working directory, and the event payload,
// the home folder and the file commands (GITHUB_OUTPUT,
// GITHUB_STEP_SUMMARY) live in mounted folders under /github. Containers
// share the host's network, so the app and the fake GitHub API the tests
// serve on 127.0.0.1 are reachable from inside.
package containertest
