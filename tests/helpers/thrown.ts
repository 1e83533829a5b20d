/** The error a call throws or a promise rejects with, when it must be of one kind; anything else fails the test. */

export function thrownBy<E>(run: () => unknown, is: (error: unknown) => error is E): E {
  try {
    run();
  } catch (error) {
    if (is(error)) return error;
    throw error;
  }
  throw new Error('expected it to throw');
}

export async function rejectionOf<E>(promise: Promise<unknown>, is: (error: unknown) => error is E): Promise<E> {
  try {
    await promise;
  } catch (error) {
    if (is(error)) return error;
    throw error;
  }
  throw new Error('expected it to fail');
}
