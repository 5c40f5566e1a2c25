import Default, { parse, format as fmt } from "./util.js";
import * as path from "node:path";
const fs = require("fs");

/**
 * Add two numbers.
 *
 * Longer description.
 * @param {number} a
 */
export function add(a, b) {
  return a + b;
}

// A shape.
export class Shape extends Base {
  /** The area. */
  area() {
    const inner = () => 1;
    return 0;
  }
}

export const MAX_SIZE = 10;
const double = (x) => x * 2;

export const api = {
  /** Fetch a user. */
  getUser(id) {
    return id;
  },
  saveUser: async (user, overwrite) => user,
  LIMIT: 5,
};

exports.parse = function (text, strict) {
  return text;
};
