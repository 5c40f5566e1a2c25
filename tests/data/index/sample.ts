import type { Options } from "./options";
import { readFile } from "fs/promises";

/** A point in space. */
export interface Point {
  x: number;
  distance(other: Point): number;
}

export type Id = string | number;

export enum Color { Red, Green }

export abstract class Repo<T> implements Store {
  /** Load one item. */
  async load(id: Id): Promise<T> {
    return null as any;
  }
  abstract save(item: T): void;
}

export function create<T>(options: Options): Repo<T> {
  return null as any;
}
