// Harrier's collector. (Exports are added here as the modules land.)
export {};
