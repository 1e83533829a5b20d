// Replaced by the foundation's database probe; kept minimal so suites can run meanwhile.
export default async function setup(): Promise<void> {}
