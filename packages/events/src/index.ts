// The syscall event model shared by the capture reader, the live collector and the state engine.
// (Exports are added here as the modules land.)
export {};
