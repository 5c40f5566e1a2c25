import React from "react";

/** Greets someone. */
export function Greeting({ name }: { name: string }) {
  return <div>Hello {name}</div>;
}

export const Button = (props: ButtonProps) => <button {...props} />;
